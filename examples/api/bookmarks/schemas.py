"""The API's models: what each view takes and returns, checked by pydantic."""

from __future__ import annotations

import datetime
import typing as t

from pydantic import BaseModel, Field

#: A tag: lower-case letters, digits and hyphens.
Tag = t.Annotated[str, Field(pattern=r"^[a-z0-9-]{1,30}$", examples=["python"])]
Url = t.Annotated[str, Field(pattern=r"^https?://[^\s]+$", max_length=2000)]


class Credentials(BaseModel):
    """A user's name and password, to register or to log in."""

    username: str = Field(pattern=r"^[a-z0-9_]{3,40}$", examples=["ada"])
    password: str = Field(min_length=8, max_length=200, examples=["correct horse"])


class UserOut(BaseModel):
    id: int
    username: str


class TokenOut(BaseModel):
    """A bearer token: send it as ``Authorization: Bearer <access_token>``."""

    access_token: str
    token_type: t.Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the token expires.")


class BookmarkIn(BaseModel):
    url: Url
    title: str = Field(min_length=1, max_length=200)
    tags: list[Tag] = Field(default=[], max_length=20)


class BookmarkPatch(BaseModel):
    """The fields to change; the others are kept."""

    url: Url | None = None
    title: str | None = Field(default=None, min_length=1, max_length=200)
    tags: list[Tag] | None = Field(default=None, max_length=20)


class BookmarkOut(BaseModel):
    id: int
    url: str
    title: str
    tags: list[str]
    created: datetime.datetime


class ListQuery(BaseModel):
    page: int = Field(1, ge=1, le=10_000)
    per_page: int = Field(20, ge=1, le=100)
    tag: list[Tag] = Field(default=[], description="Only bookmarks with all these tags.")
    q: str | None = Field(None, max_length=100, description="Text in the title or URL.")


class BookmarkPage(BaseModel):
    items: list[BookmarkOut]
    page: int
    per_page: int
    total: int


class TagCount(BaseModel):
    name: str
    count: int
