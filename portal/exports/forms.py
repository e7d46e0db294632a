"""Letterhead and verification forms."""
from flask_wtf.file import FileAllowed, FileField
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.forms import Form


class LetterheadForm(Form):
    header = StringField("文头", validators=[DataRequired("文头不能为空。"),
                                           Length(max=60, message="文头最多 60 个字。")])
    footer = TextAreaField("页脚", validators=[Optional(), Length(max=200, message="页脚最多 200 个字。")])
    # No check of the file's name: the service types the seal by its bytes.
    seal = FileField("印章图片（PNG/JPEG，≤512 KB）")
    keep_seal = BooleanField("保留已上传的印章", default=True)


class VerifyForm(Form):
    file = FileField("PDF 文件", validators=[FileAllowed(["pdf"], "请上传 PDF 文件。")])
    code = StringField("校验码", validators=[Optional(), Length(max=80, message="校验码过长。")])
