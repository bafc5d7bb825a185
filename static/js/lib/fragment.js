// An HTML fragment the server renders for a page (a next page of entries, search results), fetched
// with the session's cookie. Throws on an error status and on a redirect: a redirect here is the
// sign-in page (the session ended), not the fragment.
export async function fetchFragment(url, { signal } = {}) {
  const response = await fetch(url, { signal, credentials: "same-origin", headers: { Accept: "text/html" } });
  if (!response.ok || response.redirected) throw new Error(`HTTP ${response.status}`);
  return { html: await response.text(), response };
}
