"""Demo data: 国务院安委会 → 天津市 → 河东区/河北区/东丽区 with real streets, departments, enterprises, users."""


def seed() -> list[tuple[str, ...]]:
    raise NotImplementedError
