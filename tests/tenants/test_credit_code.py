"""统一社会信用代码 check digit (GB 32100-2015)."""
import pytest

from tenants.credit_code import CreditCodeError, check_char, make, validate

# Published codes of real organisations (their check characters are part of the code).
REAL = ["91110000802100433B", "91310000631696382C"]


@pytest.mark.parametrize("code", REAL)
def test_real_codes_validate(code):
    assert validate(code) == code


def test_lowercase_and_spaces_are_normalized():
    assert validate(" " + REAL[0].lower() + " ") == REAL[0]


def test_make_appends_the_check_character():
    code = make("91120102MA05W1234")
    assert validate(code) == code and code[-1] == check_char(code[:17])


@pytest.mark.parametrize("code,message", [
    ("9111000080210043", "应为 18 位，现为 16 位"),
    ("91110000802100433I", "第 18 位“I”不是有效字符"),
    ("9111000O802100433B", "第 8 位“O”"),
    ("911A0000802100433B", "第 4 位应为数字"),
    ("91110000802100433C", "第 18 位校验码错误：应为“B”"),
])
def test_wrong_codes_name_the_position_or_the_check_digit(code, message):
    with pytest.raises(CreditCodeError, match=message):
        validate(code)
