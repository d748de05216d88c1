"""Decidim adapter: one proposal, one GraphQL POST to `{host}/api`.

Decidim's schema differs between versions in ways that make a whole query fail, not just a field come back null
(read from decidim's own type definitions, see docs/proposals.md):
- the like/endorsement count is `endorsementsCount` up to 0.30 and `likesCount` after;
- `withdrawn` (Boolean) exists from 0.29; before, a withdrawn proposal has `state: "withdrawn"` and no such field;
- `proposalState { title }` (the answer state as an object, with the title the admins gave a custom state) from 0.29;
- `LocalizedString.machineTranslated` (is this entry of `translations` a machine translation?) where it exists.
So each host gets a dialect, tried newest-common first; a "field doesn't exist" answer naming some of those fields
switches the dialect (graphql-ruby names every unknown field at once), the query is sent again, and the working
dialect is remembered for the host. Probes go through `PlatformHttp`, so they are counted in the request budget.

Not asked, on purpose: `coordinates` (non-null Float! members, so a proposal without a location answers an error
beside its data, and nothing here uses it), `address`, `reference`, dates.

Mapping (the decisions, also in docs/proposals.md):
- status: `withdrawn` true or state "withdrawn" → withdrawn; state null / "not_answered" → open; accepted, rejected,
  evaluating → the same; any other (custom states) → None, with `status_label` = the state's own title.
- supports: `voteCount` when not null; when the platform hides votes (`voteCount` null) the endorsement/like count;
  None when both are null.
- comments: `totalCommentsCount`. deadline: the end date of the process's active step, else the process's end date
  (processes only, asked in the same request; assemblies, conferences, initiatives → None).
- title/summary: `translation(locale)` first, then every other non-empty entry of `translations` (so the first entry is
  the asked language or Decidim's own fallback order); HTML stripped; summary from `body`, clipped; languages whose
  text Decidim flags `machineTranslated` are listed in `machine_translated`.
- `proposal` null without errors → None (missing, unpublished, hidden or not public); newer Decidim raises a
  permission error (NO_OBJECT_PERMISSION, "not authorized") or NOT_FOUND for such a proposal instead: also None.
  Other errors beside data are logged (once per host) and the data used; a null `component`/`proposal` beside other
  errors about them is a SourceError, not "missing".
"""

from __future__ import annotations

import logging
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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


# Newer Decidim answers a proposal the visitor may not see with an error instead of null (UnauthorizedObjectError,
# extensions.code NO_OBJECT_PERMISSION; NotFoundError, NOT_FOUND); older graphql-ruby setups say it in words.
_NOT_PUBLIC_CODES = frozenset({"NO_OBJECT_PERMISSION", "NOT_FOUND", "UNAUTHORIZED", "PERMISSION_NOT_SET"})
_NOT_PUBLIC_WORDS = re.compile(r"not authori[sz]ed|unauthori[sz]ed|permission|not found|doesn't exist", re.IGNORECASE)
OPTIONAL_FIELDS = frozenset({"withdrawn", "proposalState", "machineTranslated"})
MAX_HOSTS = 1000
STATE_LABEL_MAX = 80


@dataclass(frozen=True)
class Dialect:
    support_field: str = "endorsementsCount"
    withdrawn_field: bool = True
    state_object: bool = True
    machine_flag: bool = True


def build_query(dialect: Dialect, with_process: bool) -> str:
    flag = " machineTranslated" if dialect.machine_flag else ""
    text = f"translation(locale: $locale) translations {{ locale text{flag} }}"
    withdrawn = " withdrawn" if dialect.withdrawn_field else ""
    state = f" proposalState {{ title {{ {text} }} }}" if dialect.state_object else ""
    slug_var = ", $slug: String!" if with_process else ""
    process = " participatoryProcess(slug: $slug) { endDate steps { active endDate } }" if with_process else ""
    return (
        f"query CivicSpaceProposal($component: ID!, $id: ID!, $locale: String!{slug_var}) {{"
        f" component(id: $component) {{ ... on Proposals {{ proposal(id: $id) {{"
        f" id title {{ {text} }} body {{ {text} }} state{withdrawn}{state}"
        f" voteCount totalCommentsCount {dialect.support_field}"
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


def texts(field: object, locale: str, limit: int) -> tuple[dict[str, str], set[str]]:
    """(language → plain text, the languages whose text is a machine translation) of a TranslatedField."""
    out: dict[str, str] = {}
    machine: set[str] = set()
    if not isinstance(field, dict):
        return out, machine
    items = [i for i in field.get("translations") or () if isinstance(i, dict)]
    flagged = {i.get("locale") for i in items if i.get("machineTranslated") is True}
    asked = plain_text(field.get("translation"), limit)
    if asked:
        out[locale] = asked
    for item in items:
        lang = item.get("locale")
        if not isinstance(lang, str) or not _LOCALE.match(lang) or lang in out:
            continue  # also skips the "machine_translations" pseudo-locale older versions list
        text = plain_text(item.get("text"), limit)
        if text:
            out[lang] = text
    machine.update(lang for lang in out if lang in flagged)
    return out, machine


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


def _errors_under(errors: list[Any], root: str) -> list[dict[str, Any]]:
    return [e for e in errors if isinstance(e, dict) and isinstance(e.get("path"), list) and e["path"][:1] == [root]]


def _says_not_public(error: dict[str, Any]) -> bool:
    ext = error.get("extensions")
    code = ext.get("code") if isinstance(ext, dict) else None
    if isinstance(code, str):
        return code.upper() in _NOT_PUBLIC_CODES
    return bool(_NOT_PUBLIC_WORDS.search(str(error.get("message", ""))))


class DecidimSource:
    def __init__(
        self,
        http: _http.PlatformHttp,
        *,
        locale: str = "en",
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.http = http
        self.locale = locale
        self.wall_clock = wall_clock
        self.dialects: OrderedDict[str, Dialect] = OrderedDict()  # per origin, at most MAX_HOSTS
        self._warned: OrderedDict[str, None] = OrderedDict()  # origins already warned about partial answers

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
                self._remember(self.dialects, target.origin, dialect)
                return self._proposal(target, payload, errors)
            adapted = self._adapt(dialect, missing)
            if adapted is None:
                raise SourceError(f"{target.origin} does not know the fields {sorted(missing)}")
            log.info("decidim host %s: switching dialect %s -> %s", target.origin, dialect, adapted)
            dialect = adapted
            self._remember(self.dialects, target.origin, dialect)  # a probe is learnt even if the retry is not sent
        raise SourceError(f"{target.origin}: no query dialect worked")

    @staticmethod
    def _remember(table: OrderedDict[str, Any], key: str, value: Any) -> None:
        table[key] = value
        table.move_to_end(key)
        while len(table) > MAX_HOSTS:
            table.popitem(last=False)

    @staticmethod
    def _adapt(dialect: Dialect, missing: set[str]) -> Dialect | None:
        support = dialect.support_field
        if missing - {support} - OPTIONAL_FIELDS:
            return None
        if support in missing:
            support = next(f for f in SUPPORT_FIELDS if f != support)
        adapted = Dialect(
            support,
            dialect.withdrawn_field and "withdrawn" not in missing,
            dialect.state_object and "proposalState" not in missing,
            dialect.machine_flag and "machineTranslated" not in missing,
        )
        return adapted if adapted != dialect else None

    async def _post(self, target: ProposalRef, dialect: Dialect) -> dict[str, Any]:
        with_process = target.space_kind == "processes"
        variables: dict[str, Any] = {"component": target.component_id, "id": target.proposal_id, "locale": self.locale}
        if with_process:
            variables["slug"] = target.space_slug
        body = {"query": build_query(dialect, with_process), "variables": variables}
        async with self.http.request("POST", f"{target.origin}/api", host_key=target.origin, json=body) as resp:
            if resp.status != 200:
                raise SourceError(f"{target.origin}/api answered HTTP {resp.status}")
            raw = await _http.read_body(resp)
        return _http.decode_json(raw, target.origin)

    def _proposal(self, target: ProposalRef, payload: dict[str, Any], errors: list[Any]) -> Proposal | None:
        data = payload.get("data")
        if not isinstance(data, dict):
            first = errors[0].get("message") if errors and isinstance(errors[0], dict) else "no data"
            raise SourceError(f"{target.origin}/api: {first}")
        component = data.get("component")
        item = component.get("proposal") if isinstance(component, dict) else None
        if not isinstance(item, dict):
            about = _errors_under(errors, "component")
            if about and not all(_says_not_public(e) for e in about):
                raise SourceError(f"{target.origin}/api failed to resolve the proposal: {about[:3]}")
            return None  # missing, unpublished, hidden or not public: the platform's answer, not an outage
        if errors:
            level = logging.DEBUG if target.origin in self._warned else logging.WARNING
            self._remember(self._warned, target.origin, None)
            log.log(level, "decidim %s: partial answer, %d error(s) beside data: %s", target.ref, len(errors),
                    "; ".join(str(e.get("message", ""))[:200] for e in errors[:3] if isinstance(e, dict)))
        votes = count(item.get("voteCount"))
        likes = count(item.get("likesCount", item.get("endorsementsCount")))
        title, machine_title = texts(item.get("title"), self.locale, TITLE_MAX)
        summary, machine_summary = texts(item.get("body"), self.locale, SUMMARY_MAX)
        state_object = item.get("proposalState")
        label, _ = texts(state_object.get("title") if isinstance(state_object, dict) else None, self.locale,
                         STATE_LABEL_MAX)
        return Proposal(
            ref=target.ref,
            source="decidim",
            title=title,
            summary=summary,
            status=status_of(item.get("state"), item.get("withdrawn")),
            supports=votes if votes is not None else likes,
            comments=count(item.get("totalCommentsCount")),
            deadline=deadline_of(data.get("participatoryProcess")),
            url=target.url,
            fetched_at=self.wall_clock(),
            status_label=label,
            machine_translated=frozenset(machine_title | machine_summary),
        )
