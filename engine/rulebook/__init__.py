"""The rulebook and the position risk tables, which legal staff own.

``model`` loads the rule language, ``tables`` the positions and relevance
tables; ``compiled`` compiles the rules into durable-rules and chooses the
winning rule; ``analysis`` checks the rulebook over its whole input space;
``ruletests`` runs the rule tests; ``lookback`` counts ages of findings and
lookback periods; ``jurisdictions`` holds the hierarchy of work locations
a rule may name.
"""
