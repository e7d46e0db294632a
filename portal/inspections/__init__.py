"""Signed inspections (谁检查、谁签名、谁负责), their findings and enforcement, and accidents."""
