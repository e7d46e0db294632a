"""统一社会信用代码 (GB 32100-2015): 18 characters, the last a check character mod 31."""
from portal.errors import Refused

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


class CreditCodeError(Refused):
    pass


def check_char(first17: str) -> str:
    total = sum(ALPHABET.index(c) * w for c, w in zip(first17, WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


def validate(code: str) -> str:
    """Return the normalized code or raise CreditCodeError with a message naming what is wrong."""
    code = (code or "").strip().upper()
    if len(code) != 18:
        raise CreditCodeError(f"统一社会信用代码应为 18 位，现为 {len(code)} 位。")
    for pos, char in enumerate(code, start=1):
        if char not in ALPHABET:
            raise CreditCodeError(
                f"统一社会信用代码第 {pos} 位“{char}”不是有效字符（不使用 I、O、Z、S、V）。")
    for pos in range(3, 9):
        if not code[pos - 1].isdigit():
            raise CreditCodeError(f"统一社会信用代码第 {pos} 位应为数字（第 3–8 位是登记管理机关行政区划码）。")
    expected = check_char(code[:17])
    if code[17] != expected:
        raise CreditCodeError(f"统一社会信用代码第 18 位校验码错误：应为“{expected}”，现为“{code[17]}”。")
    return code


def make(prefix17: str) -> str:
    """Complete 17 characters with their check character (demo data and tests)."""
    return prefix17 + check_char(prefix17)
