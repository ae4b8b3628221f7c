"""The changelog topic of a Faust table, named as Faust names it, for declaration and mirrors."""

from protocols.topics import TopicSpec


def table_changelog(app_id: str, table: str, value: object, doc: str) -> TopicSpec:
    """The compacted changelog of `table`: every worker's replica reads it whole."""
    return TopicSpec(
        role=f"{table}_changelog",
        name=f"{app_id}-{table}-changelog",
        key=f"the {table} table's key",
        value=value,
        external=False,
        compacted=True,
        doc=doc,
    )
