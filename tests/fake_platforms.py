"""Fake Decidim and CONSUL Democracy servers that EXECUTE the adapters' real GraphQL against the platforms' schemas.

The schemas below are SDL copies of the parts of the real ones the adapters touch, with the real field names, types,
nesting and nullability, VERSION BY VERSION, so a misspelt or version-specific field fails here as it fails there.
Read from decidim/decidim: decidim-proposals/lib/decidim/api/proposal_type.rb and proposal_state_type.rb,
decidim-core/lib/decidim/api/types/translated_field_type.rb, localized_string_type.rb, coordinates_type.rb,
decidim-core/lib/decidim/api/interfaces/endorsable_interface.rb and likeable_interface.rb, decidim-api/lib/decidim/
api/schema.rb and errors/unauthorized_object_error.rb; from consuldemocracy: app/graphql/types/proposal_type.rb.
What the fakes reproduce on purpose (docs/proposals.md has the table):
- Decidim answers HTTP 200 with graphql-ruby's error shapes: a validation failure ("Field 'x' doesn't exist on type
  'Y'", extensions.code undefinedField) comes alone with no `data`; a resolver failure comes beside partial `data`.
- Versions: 0.27 and 0.28 have `endorsementsCount`, no `withdrawn` (withdrawal is `state: "withdrawn"`) and no
  `proposalState`; 0.29–0.30 add `withdrawn`, `withdrawnAt` and `proposalState { title … }` (custom states keep their
  token in `state` and their own title there); 0.31 (newest) renames the count to `likesCount` (LikeableInterface)
  and answers a proposal the visitor may not see with an UnauthorizedObjectError (extensions.code
  NO_OBJECT_PERMISSION) beside a null, where older versions give a bare null.
- `coordinates` is `Coordinates { latitude: Float! longitude: Float! }`: asking for it on a proposal without a
  location yields an error beside the data, as for real.
- Texts: `translation(locale:)` is null for a locale the text lacks; `translations` lists what exists; texts hold
  HTML. Machine translations: from 0.28 the API merges them into `translation`/`translations` and flags each entry
  `machineTranslated`; 0.27 lists the raw "machine_translations" key as if it were a locale and never merges.
- `voteCount` is null when the component hides votes.
- CONSUL: GET /graphql?query=…; `proposal(id:)` is non-null and `find`s, so a missing id is an HTTP error (404);
  optionally refuses requests without a browser-like User-Agent (403).
- Both: count every request (`requests`), answer 429 + Retry-After or 5xx on demand, and can be slowed down (`delay`)
  or held until released (`gate`) so tests can overlap concurrent calls.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from graphql import GraphQLError, GraphQLSchema, build_schema, graphql

DECIDIM_VERSIONS = ("0.27", "0.28", "0.29", "0.30", "0.31")

_DECIDIM_SDL = """
scalar DateTime
scalar Date

type LocalizedString { locale: String! text: String %(machine)s }
type TranslatedField {
  locales: [String]
  translation(locale: String!): String
  translations(locales: [String!]): [LocalizedString]!
}
type Coordinates { latitude: Float! longitude: Float! }
type ParticipatorySpace { id: ID! type: String! name: TranslatedField! }

interface ComponentInterface { id: ID! name: TranslatedField! participatorySpace: ParticipatorySpace! weight: Int! }

type Proposal {
  id: ID!
  reference: String
  title: TranslatedField
  body: TranslatedField
  state: String
  %(withdrawn)s
  %(proposal_state)s
  publishedAt: DateTime
  answeredAt: DateTime
  answer: TranslatedField
  voteCount: Int
  totalCommentsCount: Int!
  hasComments: Boolean!
  acceptsNewComments: Boolean!
  %(support)s: Int
  address: String
  coordinates: Coordinates
  official: Boolean
}
type ProposalState {
  id: ID! title: TranslatedField announcementTitle: TranslatedField bgColor: String textColor: String
  proposalsCount: Int
}
type ProposalConnection { nodes: [Proposal] }
type Proposals implements ComponentInterface {
  id: ID! name: TranslatedField! participatorySpace: ParticipatorySpace! weight: Int!
  proposal(id: ID!): Proposal
  proposals: ProposalConnection
}
type Meetings implements ComponentInterface {
  id: ID! name: TranslatedField! participatorySpace: ParticipatorySpace! weight: Int!
}
type ParticipatoryProcessStep {
  id: ID! title: TranslatedField! startDate: DateTime endDate: DateTime active: Boolean position: Int
}
type ParticipatoryProcess {
  id: ID! slug: String! title: TranslatedField! startDate: Date endDate: Date steps: [ParticipatoryProcessStep]!
}
type Assembly { id: ID! slug: String! title: TranslatedField! }
type Decidim { applicationName: String! version: String }
type Query {
  component(id: ID!): ComponentInterface
  participatoryProcess(id: ID, slug: String): ParticipatoryProcess
  assembly(id: ID!): Assembly
  decidim: Decidim
}
"""

_CONSUL_SDL = """
scalar ISO8601DateTime
type Geozone { id: ID! name: String }
type User { id: ID! username: String }
type Proposal {
  id: ID!
  title: String
  summary: String
  description: String
  cached_votes_up: Int
  comments_count: Int
  confidence_score: Int
  hot_score: Int
  geozone_id: Int
  geozone: Geozone
  public_author: User
  public_created_at: String
  retired_at: ISO8601DateTime
  retired_reason: String
  retired_explanation: String
  video_url: String
}
type Query {
  proposal(id: ID!): Proposal!
  geozone(id: ID!): Geozone!
}
"""


class Translated:
    """A Decidim translatable text as stored (locale → text, maybe machine translations) with the API's resolvers.

    `merged` (0.28+): machine translations fill the locales the author did not write, flagged `machineTranslated`.
    Without it (0.27): the stored hash as is, "machine_translations" key included, never merged.
    """

    def __init__(self, values: dict[str, str], machine: dict[str, str] | None = None, merged: bool = True) -> None:
        self.values, self.machine, self.merged = values, machine or {}, merged

    def _display(self) -> dict[str, str]:
        if not self.merged:
            raw: dict[str, str] = dict(self.values)
            if self.machine:
                raw["machine_translations"] = str(self.machine)
            return raw
        keys = list(dict.fromkeys([*self.values, *self.machine]))
        return {k: self.values.get(k) or self.machine.get(k, "") for k in keys}

    def locales(self, _info: Any) -> list[str]:
        return list(self._display())

    def translation(self, _info: Any, locale: str) -> str | None:
        return self._display().get(locale) or None

    def translations(self, _info: Any, locales: list[str] | None = None) -> list[dict[str, Any]]:
        shown = self._display()
        return [
            {"locale": k, "text": v, "machineTranslated": not self.values.get(k)}
            for k, v in shown.items() if not locales or k in locales
        ]


class _NotPublic(Exception):
    """Decidim::Api::Errors::UnauthorizedObjectError (0.31): extensions.code NO_OBJECT_PERMISSION."""


def _failing(message: str) -> Any:
    def resolve(_info: Any, **_args: Any) -> Any:
        raise GraphQLError(message)
    return resolve


def _graphql_ruby_error(error: dict[str, Any]) -> dict[str, Any]:
    """graphql-core's validation wording → graphql-ruby's, as Decidim and CONSUL answer it."""
    message = str(error.get("message", ""))
    if message.startswith("Cannot query field "):
        # "Cannot query field 'likesCount' on type 'Proposal'. Did you mean ...?"
        parts = message.split("'")
        if len(parts) >= 4:
            field_name, type_name = parts[1], parts[3]
            return {
                "message": f"Field '{field_name}' doesn't exist on type '{type_name}'",
                "locations": error.get("locations", []),
                "path": ["query"],
                "extensions": {"code": "undefinedField", "typeName": type_name, "fieldName": field_name},
            }
    if message.startswith("You are not authorized"):
        error = {**error, "extensions": {"code": "NO_OBJECT_PERMISSION"}}
    return {k: v for k, v in error.items() if v is not None}


def _graphql_response(result: Any) -> web.Response:
    """A GraphQL answer as both platforms send it: errors (graphql-ruby's shape) beside whatever data there is."""
    out: dict[str, Any] = {}
    if result.errors:
        out["errors"] = [_graphql_ruby_error(dict(e.formatted)) for e in result.errors]
    if result.data is not None:
        out["data"] = result.data
    return web.json_response(out)


@dataclass
class _Trouble:
    status: int | None = None  # answer every request with this status
    retry_after: str | None = None
    delay: float = 0.0
    gate: asyncio.Event | None = None  # when set: every request waits until the event is set


@dataclass
class FakeDecidim:
    version: str = "0.30"
    requests: int = 0
    queries: list[str] = field(default_factory=list)
    trouble: _Trouble = field(default_factory=_Trouble)
    components: dict[str, dict[str, Any]] = field(default_factory=dict)
    processes: dict[str, dict[str, Any]] = field(default_factory=dict)
    broken_fields: set[str] = field(default_factory=set)  # resolvers that raise (errors beside data)
    broken_proposals: set[str] = field(default_factory=set)  # ids whose `proposal` resolver raises (null + error)

    def __post_init__(self) -> None:
        if self.version not in DECIDIM_VERSIONS:
            raise ValueError(self.version)
        since_029 = self.version >= "0.29"
        self.schema: GraphQLSchema = build_schema(_DECIDIM_SDL % {
            "withdrawn": "withdrawn: Boolean\n  withdrawnAt: DateTime" if since_029 else "",
            "proposal_state": "proposalState: ProposalState" if since_029 else "",
            "support": "endorsementsCount" if self.version < "0.31" else "likesCount",
            "machine": "machineTranslated: Boolean!" if self.version >= "0.28" else "",
        })

    # --- content -------------------------------------------------------------------------------------------------

    def add_component(self, component_id: int, kind: str = "Proposals", votes_hidden: bool = False) -> None:
        self.components[str(component_id)] = {"kind": kind, "votes_hidden": votes_hidden, "proposals": {}}

    def add_proposal(
        self,
        component_id: int,
        proposal_id: int,
        *,
        title: dict[str, str],
        body: dict[str, str] | None = None,
        state: str | None = None,
        withdrawn: bool = False,
        votes: int = 0,
        likes: int = 0,
        comments: int = 0,
        published: bool = True,
        state_title: dict[str, str] | None = None,
        machine_title: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """`state` is the state's token (custom ones too, 0.28+); `state_title` the title admins gave it."""
        if str(component_id) not in self.components:
            self.add_component(component_id)
        record = {
            "id": str(proposal_id), "title": title, "body": body or {}, "state": state, "withdrawn": withdrawn,
            "votes": votes, "likes": likes, "comments": comments, "published": published,
            "state_title": state_title or ({"en": state.replace("_", " ").capitalize()} if state else None),
            "machine_title": machine_title or {},
        }
        self.components[str(component_id)]["proposals"][str(proposal_id)] = record
        return record

    def add_process(self, slug: str, *, end_date: str | None = None, steps: list[dict[str, Any]] | None = None) -> None:
        self.processes[slug] = {"endDate": end_date, "steps": steps or []}

    # --- GraphQL objects as the API shows them -------------------------------------------------------------------

    def _proposal_object(self, component: dict[str, Any], record: dict[str, Any]) -> dict[str, Any] | None:
        if not record["published"]:
            if self.version >= "0.31":
                raise _NotPublic("You are not authorized to see this Proposal")
            return None  # ProposalType.authorized? false → null
        state = record["state"]
        if self.version < "0.29" and record["withdrawn"]:
            state = "withdrawn"
        merged = self.version >= "0.28"
        proposal_state = None
        if state not in (None, "not_answered", "withdrawn") and record["state_title"]:
            proposal_state = {"id": "1", "title": Translated(record["state_title"], merged=merged),
                              "announcementTitle": None, "bgColor": "#eee", "textColor": "#111", "proposalsCount": 1}
        obj: dict[str, Any] = {
            "id": record["id"], "reference": f"D-PROP-{record['id']}",
            "title": Translated(record["title"], record["machine_title"], merged=merged),
            "body": Translated(record["body"], merged=merged), "state": state, "proposalState": proposal_state,
            "withdrawn": record["withdrawn"], "withdrawnAt": "2025-01-02T10:00:00Z" if record["withdrawn"] else None,
            "publishedAt": "2025-01-01T10:00:00Z", "answeredAt": None, "answer": None,
            "voteCount": None if component["votes_hidden"] else record["votes"],
            "totalCommentsCount": record["comments"], "hasComments": record["comments"] > 0,
            "acceptsNewComments": True, "endorsementsCount": record["likes"], "likesCount": record["likes"],
            "address": None, "coordinates": {"latitude": None, "longitude": None}, "official": False,
        }
        for name in self.broken_fields:
            obj[name] = _failing(f"Internal error resolving {name}")
        return obj

    def _component(self, _info: Any, id: str) -> dict[str, Any] | None:  # noqa: A002 - GraphQL argument name
        component = self.components.get(str(id))
        if component is None:
            return None
        space = {"id": "1", "type": "Decidim::ParticipatoryProcess", "name": Translated({"en": "Process"})}
        base = {"__typename": component["kind"], "id": str(id), "name": Translated({"en": "Proposals"}),
                "participatorySpace": space, "weight": 0}
        if component["kind"] == "Proposals":
            def proposal(_info: Any, id: str) -> dict[str, Any] | None:  # noqa: A002
                if str(id) in self.broken_proposals:
                    raise GraphQLError("Internal error resolving proposal")
                record = component["proposals"].get(str(id))
                return self._proposal_object(component, record) if record else None
            base["proposal"] = proposal
        return base

    def _process(self, _info: Any, id: str | None = None, slug: str | None = None) -> dict[str, Any] | None:  # noqa: A002
        process = self.processes.get(slug or "")
        if process is None:
            return None
        return {"id": "1", "slug": slug, "title": Translated({"en": slug or ""}), "startDate": None,
                "endDate": process["endDate"],
                "steps": [{"id": str(i), "title": Translated({"en": f"Step {i}"}), "startDate": None,
                           "endDate": s.get("endDate"), "active": s.get("active", False), "position": i}
                          for i, s in enumerate(process["steps"])]}

    # --- HTTP ----------------------------------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.Response:
        self.requests += 1
        if self.trouble.delay:
            await asyncio.sleep(self.trouble.delay)
        if self.trouble.gate is not None:
            await self.trouble.gate.wait()
        if self.trouble.status is not None:
            headers = {"Retry-After": self.trouble.retry_after} if self.trouble.retry_after else {}
            return web.Response(status=self.trouble.status, text="Retry later\n", headers=headers)
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"errors": [{"message": "Unexpected end of document"}]})
        query, variables = body.get("query", ""), body.get("variables") or {}
        self.queries.append(query)
        root = {"component": self._component, "participatoryProcess": self._process,
                "decidim": {"applicationName": "Fake", "version": self.version}}
        result = await graphql(self.schema, query, root_value=root, variable_values=variables)
        return _graphql_response(result)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/api", self.handle)
        return app


class _NotFound(Exception):
    pass


@dataclass
class FakeConsul:
    requests: int = 0
    queries: list[str] = field(default_factory=list)
    trouble: _Trouble = field(default_factory=_Trouble)
    proposals: dict[str, dict[str, Any]] = field(default_factory=dict)
    require_browser_agent: bool = True
    user_agents: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.schema: GraphQLSchema = build_schema(_CONSUL_SDL)

    def add_proposal(self, proposal_id: int, *, title: str, summary: str = "", votes: int = 0, comments: int = 0,
                     retired_at: str | None = None) -> dict[str, Any]:
        record = {
            "id": str(proposal_id), "title": title, "summary": summary, "description": f"<p>{summary}</p>",
            "cached_votes_up": votes, "comments_count": comments, "confidence_score": 0, "hot_score": 0,
            "geozone_id": 1, "geozone": {"id": "1", "name": "Centro"}, "public_author": None,
            "public_created_at": "2025-01-01 10:00:00 UTC", "retired_at": retired_at,
            "retired_reason": "unfeasible" if retired_at else None, "retired_explanation": None, "video_url": None,
        }
        self.proposals[str(proposal_id)] = record
        return record

    def _proposal(self, _info: Any, id: str) -> dict[str, Any]:  # noqa: A002
        record = self.proposals.get(str(id))
        if record is None:
            raise _NotFound(id)  # ActiveRecord::RecordNotFound
        return record

    async def handle(self, request: web.Request) -> web.Response:
        self.requests += 1
        self.user_agents.append(request.headers.get("User-Agent", ""))
        if self.trouble.delay:
            await asyncio.sleep(self.trouble.delay)
        if self.trouble.status is not None:
            headers = {"Retry-After": self.trouble.retry_after} if self.trouble.retry_after else {}
            return web.Response(status=self.trouble.status, text="Retry later\n", headers=headers)
        if self.require_browser_agent and not request.headers.get("User-Agent", "").startswith("Mozilla/"):
            return web.Response(status=403, text="Forbidden\n")
        query = request.query.get("query")
        if not query:
            return web.json_response({"message": "Query string not present"}, status=400)
        self.queries.append(query)
        variables = json.loads(request.query["variables"]) if request.query.get("variables") else {}
        result = await graphql(self.schema, query, root_value={"proposal": self._proposal}, variable_values=variables)
        if result.errors and any(isinstance(e.original_error, _NotFound) for e in result.errors):
            return web.Response(status=404, text="<html>The page you were looking for doesn't exist.</html>",
                                content_type="text/html")
        return _graphql_response(result)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/graphql", self.handle)
        return app
