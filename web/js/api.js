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

export const api = {
  scenes: () => getJSON('/api/scenes'),
  scene: (id) => getJSON(`/api/scenes/${encodeURIComponent(id)}`),
};
