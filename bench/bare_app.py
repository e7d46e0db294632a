"""The yardstick of bench/load.py: a bare Flask + Jinja page of a 50-row table, no database, no
login, served by the same gunicorn settings as the portal. What the portal's pages are compared to."""
from flask import Flask, render_template_string

app = Flask(__name__)

PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>隐患台账</title></head>
<body><h1>隐患台账</h1>
<table><thead><tr><th>序号</th><th>单位</th><th>隐患描述</th><th>等级</th><th>整改期限</th><th>状态</th></tr></thead>
<tbody>
{% for row in rows %}<tr><td>{{ row.n }}</td><td>{{ row.unit }}</td><td>{{ row.description }}</td>
<td>{{ row.level }}</td><td>{{ row.deadline }}</td><td>{{ row.status }}</td></tr>
{% endfor %}</tbody></table></body></html>"""

ROWS = [dict(n=n, unit=f"基准区第{n}号企业", description=f"基准隐患 {n} 号：消防通道堵塞、报警装置失效",
             level="一般" if n % 3 else "重大", deadline=f"2026-07-{n % 28 + 1:02d}", status="整改中")
        for n in range(1, 51)]


@app.get("/")
def table():
    return render_template_string(PAGE, rows=ROWS)
