"""The form for adding a book: Flask-WTF with CSRF protection."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional


class BookForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    author = StringField("Author", validators=[DataRequired(), Length(max=200)])
    year = IntegerField("Year", validators=[Optional(), NumberRange(min=0, max=3000)])
