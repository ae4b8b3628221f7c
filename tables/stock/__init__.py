"""A SKU's stock across its warehouses: the stored value (`value`) and its transition (`apply`).

`apply` takes the stock facts and the order lines' commands: each line's holds
(`reservations`), what leaves the shelf in WMS order (`shelf`), reservations a shelf
cannot keep (`takeback`), the SKU's backorder queue (`backorder_queue`, served by
`backorders`, stored as a row per waiting line by `queue_rows`). `atp` decides sourcing
and promise dates, `reconcile` compares ERP's book stock; `batch` and `table` store it.
"""
