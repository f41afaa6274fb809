"""The human decision that follows a recommendation.

``signoff`` records the assessment, the candidate's response and the final
decision, and refuses the steps the law does not allow; ``notices`` says
when a pre-adverse or adverse notice may be issued; ``deadlines`` counts
business days; ``consistency`` compares how comparable cases were handled.
"""
