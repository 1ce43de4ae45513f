// The steward front page: keep the panels current without a reload.
/* Keep the panels current: ask every few seconds whether anything changed (ETag -> 304). */
document.addEventListener("DOMContentLoaded", function () {
  const box = document.getElementById("needs"), state = document.getElementById("live-state");
  const clock = document.getElementById("live-time");
  let etag = box.dataset.etag, waiting = false;
  function typing() {  // never swap the panels under a steward's half-typed reason
    const el = document.activeElement;
    return el && box.contains(el) && (el.tagName === "INPUT" || el.tagName === "TEXTAREA");
  }
  async function poll() {
    if (document.hidden || waiting || typing()) return;
    waiting = true;
    try {
      const answer = await fetch(box.dataset.liveUrl, {
        headers: {"If-None-Match": etag, "Accept": "text/html"}, cache: "no-store",
        credentials: "same-origin", redirect: "manual"});
      if (answer.status === 200) {
        box.innerHTML = await answer.text();
        etag = answer.headers.get("ETag") || etag;
      } else if (answer.status !== 304) {
        state.textContent = "Not live: sign in again or reload (" + (answer.status || "signed out") + ").";
        return;
      }
      clock.textContent = new Date().toLocaleTimeString("en-GB",
        {timeZone: clock.dataset.timezone || "UTC", hour12: false});  // the site's clock
      state.classList.remove("stale");
    } catch (error) {
      state.classList.add("stale");
    } finally { waiting = false; }
  }
  setInterval(poll, Number(box.dataset.pollMs) || 2000);
  document.addEventListener("visibilitychange", poll);
});
