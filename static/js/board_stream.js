// Pushed board updates (docs/board.md, "Live updates"): an EventSource on /board/events/ that
// says "ask the poll now" when a change to this board commits. The poll stays the source of
// the board's content; the stream only decides when to ask. While the stream is healthy the
// poll runs every SLOW_MS (a safety net: the delayed-updates banner, a lost event); when the
// stream errors, drops or is refused, the poll runs every FAST_MS as it always did, and the
// stream is reopened with backoff (1 s doubling to 60 s).
//
// window.boardLive(el, poll): `el` carries data-events-url; `poll()` asks the board's poll and
// returns whether it asked (false when the board was busy: it is asked again on the next tick).
// el.dataset.stream says "live" or "polling" (for people reading the page's state, and tests).
(function () {
  "use strict";
  const FAST_MS = 500;
  const SLOW_MS = 15000;
  const MAX_BACKOFF_MS = 60000;

  window.boardLive = function (el, poll) {
    const url = el.dataset.eventsUrl;
    let healthy = false;
    let pending = false; // an event arrived while the board could not be re-read
    let last = 0;
    let backoff = 1000;

    function ask() {
      if (poll()) { pending = false; last = Date.now(); } else { pending = true; }
    }

    function state(live) {
      healthy = live;
      el.dataset.stream = live ? "live" : "polling";
    }

    function open() {
      if (!url || !window.EventSource) { state(false); return; }
      const source = new EventSource(url);
      source.addEventListener("open", function () {
        state(true);
        backoff = 1000;
        ask(); // whatever changed while the stream was down or opening
      });
      source.addEventListener("board", ask);
      source.addEventListener("error", function () {
        // EventSource would retry a dropped stream itself but gives up on a refusal (403, 204,
        // 503): one path for both, with a backoff of our own.
        source.close();
        state(false);
        setTimeout(open, backoff);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      });
    }

    state(false);
    open();
    setInterval(function () {
      if (pending || Date.now() - last >= (healthy ? SLOW_MS : FAST_MS)) ask();
    }, FAST_MS);
  };
})();
