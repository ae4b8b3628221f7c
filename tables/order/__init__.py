"""The order aggregate: the stored Order (`value`), its transition (`apply`) and its rules.

`apply` dispatches each inbox message to the rule for it, each taking the `change` so
far: `intake` (submission and the stock side's answers), `erp` (ERP's decisions),
`warehouse` (release, pick and ship; `release`, `after_cancel`), `backorders` and
`takeback` (units waiting for stock), `close` (rejection and cancel: everything given
back), `deadline` (no decision in time). `progress` reads the status from the lines,
`steps` publishes the steps without one; `batch` and `table` store it.
"""
