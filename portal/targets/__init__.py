"""The three-year action's targets (治本攻坚三年行动目标) per node and year, from the hazard records."""
