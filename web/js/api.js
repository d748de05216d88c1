// Api — same-origin JSON requests to the Civic Space server (docs/http-api.md).
//
// Invariant: every failure becomes an ApiError with a stable `code` — the server's
// {"error": {"code", "message"}} when it sent one, else "network_error" / "http_<status>" /
// "bad_response" — so the UI always has a code and a message to show.

export class ApiError extends Error {
  constructor(code, message, status = 0) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
  }
}

/** Turns a non-OK response into an ApiError, reading the JSON error shape when present. */
export async function errorFromResponse(response) {
  try {
    const body = await response.json();
    if (body && body.error && body.error.code) {
      return new ApiError(body.error.code, body.error.message || body.error.code, response.status);
    }
  } catch {
    // not JSON: fall through to a generic error
  }
  return new ApiError(`http_${response.status}`, `${response.status} ${response.statusText}`.trim(), response.status);
}

/** fetch() that rejects with ApiError on network errors and non-2xx statuses. */
export async function request(url, options = {}) {
  let response;
  try {
    response = await fetch(url, options);
  } catch (error) {
    throw new ApiError('network_error', error.message || 'The server could not be reached.');
  }
  if (!response.ok) throw await errorFromResponse(response);
  return response;
}

export async function getJSON(url) {
  const response = await request(url, { headers: { Accept: 'application/json' } });
  try {
    return await response.json();
  } catch {
    throw new ApiError('bad_response', `The server sent an unreadable answer for ${url}.`, response.status);
  }
}

/**
 * A JSON request with a body (POST, PATCH, DELETE). `csrf` is the staff session's token (writes by staff
 * need it in X-CSRF-Token). Resolves to {status, body}; a 409 resolves too (the caller shows the conflict,
 * `body.current` holds the server's state); every other failure rejects with an ApiError.
 */
export async function sendJSON(url, { method = 'POST', body = undefined, csrf = null } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (csrf) headers['X-CSRF-Token'] = csrf;
  let response;
  try {
    response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (error) {
    throw new ApiError('network_error', error.message || 'The server could not be reached.');
  }
  if (response.status === 409) {
    const conflict = await response.json().catch(() => ({}));
    return { status: 409, body: conflict };
  }
  if (!response.ok) throw await errorFromResponse(response);
  const text = await response.text();
  try {
    return { status: response.status, body: text ? JSON.parse(text) : null };
  } catch {
    throw new ApiError('bad_response', `The server sent an unreadable answer for ${url}.`, response.status);
  }
}

const enc = encodeURIComponent;

export const api = {
  scenes: () => getJSON('/api/scenes'),
  scene: (id) => getJSON(`/api/scenes/${enc(id)}`),
  hotspots: (sceneId) => getJSON(`/api/scenes/${enc(sceneId)}/hotspots`),
  /** The live state of a proposal: by reference (`local:5`, `decidim:…`) or by a pasted platform address. */
  resolveProposal: ({ ref = null, url = null }) =>
    getJSON(ref ? `/api/proposals/live?ref=${enc(ref)}` : `/api/proposals/resolve?url=${enc(url)}`),
  searchProposals: (query) => getJSON(`/api/proposals?q=${enc(query)}`),
  support: (proposalId, token) => sendJSON(`/api/proposals/${enc(proposalId)}/support`, { body: { token } }),
};
