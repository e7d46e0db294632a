"""The upload of an onboarding workbook and the confirmation of its preview."""
from flask_wtf.file import FileField
from wtforms.validators import DataRequired

from portal.forms import Form


class UploadForm(Form):
    file = FileField("Excel 文件（.xlsx）", validators=[DataRequired("请选择要导入的 Excel 文件。")])


class ConfirmForm(Form):
    """Only the CSRF token: the file was checked and kept when it was uploaded."""
