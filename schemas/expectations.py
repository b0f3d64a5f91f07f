"""Great Expectations suite generated from a contract `Table` (GX is imported only when called)."""

from __future__ import annotations

from schemas.contract import Table

# expectation class name -> the quarantine rule its failures are recorded under
RULE_OF_EXPECTATION = {
    "ExpectColumnValuesToNotBeNull": "missing_value",
    "ExpectColumnValuesToBeInSet": "not_in_set",
    "ExpectColumnValuesToMatchRegex": "bad_format",
    "ExpectColumnValuesToBeBetween": "out_of_range",
    "ExpectColumnValueLengthsToBeBetween": "too_long",
}


def expectation_specs(table: Table) -> list[tuple[str, dict]]:
    """(expectation class name, keyword arguments) for every rule the contract declares."""
    specs: list[tuple[str, dict]] = [("ExpectTableColumnsToMatchOrderedList", {"column_list": table.column_names})]
    for c in table.columns:
        if c.required or c.name in table.primary_key:
            specs.append(("ExpectColumnValuesToNotBeNull", {"column": c.name}))
        if c.values:
            specs.append(("ExpectColumnValuesToBeInSet", {"column": c.name, "value_set": list(c.values)}))
        if c.pattern:
            specs.append(("ExpectColumnValuesToMatchRegex", {"column": c.name, "regex": c.pattern}))
        if c.min_value is not None or c.max_value is not None:
            specs.append(
                (
                    "ExpectColumnValuesToBeBetween",
                    {"column": c.name, "min_value": c.min_value, "max_value": c.max_value},
                )
            )
        if c.max_length and c.kind in ("text", "code"):
            specs.append(("ExpectColumnValueLengthsToBeBetween", {"column": c.name, "max_value": c.max_length}))
    return specs


def build_suite(table: Table):
    """The `gx.ExpectationSuite` of a table's contract checks."""
    import great_expectations as gx

    expectations = [getattr(gx.expectations, name)(**kwargs) for name, kwargs in expectation_specs(table)]
    return gx.ExpectationSuite(name=f"{table.name}_contract", expectations=expectations)
