"""Decidim adapter: one proposal, one GraphQL POST to `{host}/api`.

Decidim's schema differs between versions in ways that make a whole query fail, not just a field come back null:
- the like/endorsement count is `endorsementsCount` up to 0.30 and `likesCount` after;
- `withdrawn` (Boolean) exists from 0.28; in 0.27 a withdrawn proposal has `state: "withdrawn"` and no such field.
So each host gets a dialect, tried newest-common first; a "field doesn't exist" answer naming one of those fields
switches the dialect, the query is sent again, and the working dialect is remembered for the host (at most two extra
requests per host per process lifetime).

Mapping (the decisions, also in docs/proposals.md):
- status: `withdrawn` true or state "withdrawn" → withdrawn; state null / "not_answered" → open; accepted, rejected,
  evaluating → the same; any other (0.28+ custom answer states) → None.
- supports: `voteCount` when not null; when the platform hides votes (`voteCount` null) the endorsement/like count;
  None when both are null.
- comments: `totalCommentsCount`. deadline: the end date of the process's active step, else the process's end date
  (processes only, asked in the same request; assemblies have no dates → None).
- title/summary: `translation(locale)` first, then every other non-empty entry of `translations` (so the first entry is
  the asked language or Decidim's own fallback order); HTML stripped; summary from `body`, clipped.
- `proposal` null without errors → None (missing, unpublished, hidden or not public). Errors beside data are logged
  and the data used; a null `component`/`proposal` beside errors about them is a SourceError, not "missing".
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from server.proposals import _http
from server.proposals.model import (
    SUMMARY_MAX,
    TITLE_MAX,
    Proposal,
    SourceError,
    Status,
    count,
    iso_date,
    plain_text,
)
from server.proposals.urls import ProposalRef, parse_ref

log = logging.getLogger("civic.proposals.decidim")

SUPPORT_FIELDS = ("endorsementsCount", "likesCount")
_LOCALE = re.compile(r"^[a-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")
_STATES: dict[str, Status] = {"accepted": "accepted", "rejected": "rejected", "evaluating": "evaluating"}
# graphql-ruby: "Field 'likesCount' doesn't exist on type 'Proposal'"; graphql-js/core: "Cannot query field 'x' on type"
_UNDEFINED_FIELD = re.compile(
    r"""(?:Field|Cannot query field) ['"]([A-Za-z_][A-Za-z0-9_]*)['"] (?:doesn't exist )?on type"""
)


@dataclass(frozen=True)
class Dialect:
    support_field: str = "endorsementsCount"
    withdrawn_field: bool = True


def build_query(dialect: Dialect, with_process: bool) -> str:
    text = "translation(locale: $locale) translations { locale text }"
    withdrawn = " withdrawn" if dialect.withdrawn_field else ""
    slug_var = ", $slug: String!" if with_process else ""
    process = " participatoryProcess(slug: $slug) { endDate steps { active endDate } }" if with_process else ""
    return (
        f"query CivicSpaceProposal($component: ID!, $id: ID!, $locale: String!{slug_var}) {{"
        f" component(id: $component) {{ ... on Proposals {{ proposal(id: $id) {{"
        f" id reference title {{ {text} }} body {{ {text} }} state{withdrawn} publishedAt answeredAt"
        f" voteCount totalCommentsCount {dialect.support_field} address coordinates {{ latitude longitude }}"
        f" }} }} }}{process} }}"
    )


def undefined_fields(errors: list[Any]) -> set[str]:
    """Names of the fields a GraphQL server said do not exist in its schema."""
    names: set[str] = set()
    for error in errors:
        if not isinstance(error, dict):
            continue
        ext = error.get("extensions")
        if isinstance(ext, dict) and ext.get("code") == "undefinedField" and isinstance(ext.get("fieldName"), str):
            names.add(ext["fieldName"])
            continue
        match = _UNDEFINED_FIELD.search(str(error.get("message", "")))
        if match:
            names.add(match.group(1))
    return names


def texts(field: object, locale: str, limit: int) -> dict[str, str]:
    out: dict[str, str] = {}
    if not isinstance(field, dict):
        return out
    asked = plain_text(field.get("translation"), limit)
    if asked:
        out[locale] = asked
    for item in field.get("translations") or ():
        if not isinstance(item, dict):
            continue
        lang = item.get("locale")
        if not isinstance(lang, str) or not _LOCALE.match(lang) or lang in out:
            continue  # also skips the "machine_translations" pseudo-locale some versions list
        text = plain_text(item.get("text"), limit)
        if text:
            out[lang] = text
    return out


def status_of(state: object, withdrawn: object) -> Status | None:
    if withdrawn is True or state == "withdrawn":
        return "withdrawn"
    if state is None or state in ("", "not_answered"):
        return "open"
    return _STATES.get(state) if isinstance(state, str) else None


def deadline_of(process: object) -> str | None:
    if not isinstance(process, dict):
        return None
    steps = process.get("steps")
    for step in steps if isinstance(steps, list) else ():
        if isinstance(step, dict) and step.get("active") is True:
            date = iso_date(step.get("endDate"))
            if date:
                return date
    return iso_date(process.get("endDate"))


def _error_paths_under(errors: list[Any], root: str) -> bool:
    return any(isinstance(e, dict) and isinstance(e.get("path"), list) and e["path"][:1] == [root] for e in errors)


class DecidimSource:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        locale: str = "en",
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.session = session
        self.locale = locale
        self.wall_clock = wall_clock
        self.dialects: dict[str, Dialect] = {}

    async def fetch(self, ref: str) -> Proposal | None:
        target = parse_ref(ref)
        if target.source != "decidim":
            raise ValueError(f"DecidimSource cannot read {ref!r}")
        dialect = self.dialects.get(target.origin, Dialect())
        for _attempt in range(3):
            payload = await self._post(target, dialect)
            raw_errors = payload.get("errors")
            errors: list[Any] = raw_errors if isinstance(raw_errors, list) else []
            missing = undefined_fields(errors)
            if not missing:
                self.dialects[target.origin] = dialect
                return self._proposal(target, payload, errors)
            adapted = self._adapt(dialect, missing)
            if adapted is None:
                raise SourceError(f"{target.origin} does not know the fields {sorted(missing)}")
            log.info("decidim host %s: switching dialect %s -> %s", target.origin, dialect, adapted)
            dialect = adapted
        raise SourceError(f"{target.origin}: no query dialect worked")

    @staticmethod
    def _adapt(dialect: Dialect, missing: set[str]) -> Dialect | None:
        support, withdrawn = dialect.support_field, dialect.withdrawn_field
        unknown = missing - {support, "withdrawn"}
        if unknown:
            return None
        if support in missing:
            support = next(f for f in SUPPORT_FIELDS if f != support)
        if "withdrawn" in missing:
            withdrawn = False
        return Dialect(support, withdrawn)

    async def _post(self, target: ProposalRef, dialect: Dialect) -> dict[str, Any]:
        with_process = target.space_kind == "processes"
        variables: dict[str, Any] = {"component": target.component_id, "id": target.proposal_id, "locale": self.locale}
        if with_process:
            variables["slug"] = target.space_slug
        body = {"query": build_query(dialect, with_process), "variables": variables}
        headers = {"Accept": "application/json", "User-Agent": _http.USER_AGENT}
        try:
            async with self.session.post(
                f"{target.origin}/api", json=body, headers=headers, timeout=_http.TIMEOUT, allow_redirects=False
            ) as resp:
                _http.raise_for_rate_limit(resp)
                if resp.status != 200:
                    raise SourceError(f"{target.origin}/api answered HTTP {resp.status}")
                raw = await _http.read_body(resp)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SourceError(f"{target.origin}/api unreachable: {type(exc).__name__}") from exc
        return _http.decode_json(raw, target.origin)

    def _proposal(self, target: ProposalRef, payload: dict[str, Any], errors: list[Any]) -> Proposal | None:
        data = payload.get("data")
        if not isinstance(data, dict):
            first = errors[0].get("message") if errors and isinstance(errors[0], dict) else "no data"
            raise SourceError(f"{target.origin}/api: {first}")
        component = data.get("component")
        item = component.get("proposal") if isinstance(component, dict) else None
        if not isinstance(item, dict):
            if _error_paths_under(errors, "component"):
                raise SourceError(f"{target.origin}/api failed to resolve the proposal: {errors[:3]}")
            return None
        if errors:
            log.warning("decidim %s: partial answer, %d error(s) beside data: %s", target.ref, len(errors),
                        "; ".join(str(e.get("message", ""))[:200] for e in errors[:3] if isinstance(e, dict)))
        votes = count(item.get("voteCount"))
        likes = count(item.get("likesCount", item.get("endorsementsCount")))
        return Proposal(
            ref=target.ref,
            source="decidim",
            title=texts(item.get("title"), self.locale, TITLE_MAX),
            summary=texts(item.get("body"), self.locale, SUMMARY_MAX),
            status=status_of(item.get("state"), item.get("withdrawn")),
            supports=votes if votes is not None else likes,
            comments=count(item.get("totalCommentsCount")),
            deadline=deadline_of(data.get("participatoryProcess")),
            url=target.url,
            fetched_at=self.wall_clock(),
        )
