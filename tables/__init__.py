"""State and its rules: table values, pure transitions and decisions, table declarations.

`tables.order` holds the order aggregate and `tables.stock` a SKU's stock; the modules
here serve both: applying a batch key by key (`batch`), row keys (`keys`), exact dedupe
(`seen`), changelog topics (`changelog`), the domain's errors (`errors`) and the
business day (`business_day`).
"""
