"""Public whistleblower tips (举报): anonymous intake with a tracking code, verification by the
street, the hazard it becomes, and the reward."""
