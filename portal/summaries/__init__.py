"""Summaries (周调度/月小结/季通报/半年通报/年总结) composed from the records, edited, then issued as 公文."""
