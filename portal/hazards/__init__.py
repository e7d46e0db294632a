"""Determination standards, the hazard ledger with its closed loop, listed supervision, stock and
increment, and the figures the national dispatch table takes from them (隐患台账 · 挂牌督办)."""
