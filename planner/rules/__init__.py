"""The rule catalogue: one module per rule, each holding one object with every encoding drplan
needs (``planner.rules.catalogue`` lists them; import it from there: this package's top level
stays empty so that the verify package can import the rule modules' helpers without a cycle)."""
