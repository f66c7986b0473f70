// The board's script: SortableJS drags post one move through htmx, and a light poll keeps the
// board live, asked at once when the board's stream says a change committed (board_stream.js). The server decides everything; this file just carries gestures and swaps. The
// timeline (data-view="timeline") uses the same poll, panels and move post; its drags are in
// timeline.js, which posts through window.boardMoves.
(function () {
  "use strict";
  const board = document.getElementById("board");
  if (!board) return;
  const columnsEl = document.getElementById("board-columns");
  const liveStatus = document.getElementById("live-status");
  const timeline = board.dataset.view === "timeline";
  let busy = false; // a drag or a save is in flight: no swaps under the user's hand
  let generation = 0; // bumped by every drag, so a poll answer from before it is discarded
  let etag = '"' + columnsEl.dataset.version + '"';
  let focusCall = null; // after a move made from a panel, the keyboard focus returns to its card
  // "Live" is rendered hidden: only a running poll (this script) makes the board live.
  if (liveStatus) liveStatus.hidden = false;

  function focusCard(id) {
    const card = id && document.getElementById("call-" + id);
    if (card) card.focus();
  }

  function panelOpen() {
    return Boolean(document.querySelector("#confirm-panel, #move-panel, #suggest-panel"));
  }

  function post(values) {
    busy = true;
    values.day = board.dataset.day;
    values.team = board.dataset.team;
    if (timeline) values.view = "timeline";
    return htmx.ajax("POST", board.dataset.moveUrl, {
      // The answer fills #board-flash; the columns it changed arrive out of band.
      target: "#board-flash", swap: "innerHTML", values: values,
    }).finally(function () { busy = false; });
  }

  function onEnd(evt) {
    const card = evt.item;
    const from = evt.from, to = evt.to;
    if (from === to && evt.oldIndex === evt.newIndex) { busy = false; return; }
    post({
      call: card.dataset.call,
      technician: to.dataset.technician,
      position: evt.newIndex,
      expected_version: card.dataset.version,
    });
  }

  function wire() {
    if (timeline) return; // timeline.js carries the timeline's drags
    document.querySelectorAll("#board-columns .cards").forEach(function (list) {
      if (list.dataset.wired) return; // columns swapped in out of band are new elements
      list.dataset.wired = "1";
      Sortable.create(list, {
        group: "board",
        animation: 120,
        forceFallback: true, // one pointer path for mouse, touch and tests
        sort: list.dataset.technician !== "", // unassigned is ordered by urgency, not by hand
        onStart: function () { busy = true; generation += 1; },
        onEnd: onEnd,
      });
    });
  }

  function rememberVersion() {
    const notices = columnsEl.querySelector(".board-notices");
    if (notices && notices.dataset.version) etag = '"' + notices.dataset.version + '"';
  }

  // Live board: ask whether anything changed (an unchanged board is a 304): when the stream
  // says so, else twice a second without a stream and every 15 s with one (board_stream.js).
  // False when the board cannot be re-read now (it is asked again on the next tick).
  function poll() {
    if (busy || panelOpen() || document.hidden) return false;
    const asked = generation;
    fetch(board.dataset.columnsUrl, { headers: { "If-None-Match": etag }, credentials: "same-origin" })
      .then(function (response) {
        liveStatus.textContent = "Live";
        liveStatus.classList.remove("stale");
        if (response.status !== 200) return null;
        etag = response.headers.get("ETag") || etag;
        return response.text();
      })
      .then(function (html) {
        if (html === null || busy || panelOpen() || asked !== generation) return;
        const scroll = columnsEl.querySelector(".columns, .timeline");
        const left = scroll ? scroll.scrollLeft : 0;
        const top = scroll ? scroll.scrollTop : 0;
        const focused = columnsEl.contains(document.activeElement)
          ? document.activeElement.closest(".card") : null;
        columnsEl.innerHTML = html;
        htmx.process(columnsEl);
        wire();
        const again = columnsEl.querySelector(".columns, .timeline");
        if (again) { again.scrollLeft = left; again.scrollTop = top; }
        if (focused) focusCard(focused.dataset.call); // a live update keeps the reader's place
      })
      .catch(function () {
        liveStatus.textContent = "Offline: the board may be out of date";
        liveStatus.classList.add("stale");
      });
    return true;
  }

  // Any save (drag, keyboard form, confirm) makes an in-flight poll answer stale.
  document.body.addEventListener("htmx:beforeRequest", function () { generation += 1; });
  // A swap of the whole part (the timeline after a move, any board after a refusal) keeps the
  // reader's scroll place.
  let kept = null;
  document.body.addEventListener("htmx:beforeSwap", function (evt) {
    const scroll = columnsEl.querySelector(".columns, .timeline");
    kept = evt.detail.target === columnsEl && scroll ? [scroll.scrollLeft, scroll.scrollTop] : null;
  });
  document.body.addEventListener("htmx:afterSwap", function (evt) {
    const target = evt.detail.target;
    const scroll = columnsEl.querySelector(".columns, .timeline");
    if (target === columnsEl && kept && scroll) { scroll.scrollLeft = kept[0]; scroll.scrollTop = kept[1]; }
    if (target === columnsEl || (target && target.id === "board-flash")) {
      rememberVersion();
      wire();
      const panel = document.getElementById("panel");
      if (panel) panel.innerHTML = "";
      const confirm = document.getElementById("confirm-panel");
      if (confirm) {
        confirm.querySelector("textarea, #cancel-move").focus(); // the harmless choice first
      } else {
        focusCard(focusCall);
        focusCall = null;
      }
    }
  });
  document.body.addEventListener("submit", function (evt) {
    const call = evt.target.querySelector("input[name=call]");
    if (call && evt.target.closest("#move-panel, #confirm-panel, #suggest-panel")) focusCall = call.value;
  }, true);
  document.body.addEventListener("click", function (evt) {
    const closer = evt.target.closest("[data-close-panel]");
    if (!closer) return;
    evt.preventDefault();
    const panel = closer.closest("#confirm-panel, #move-panel, #suggest-panel");
    if (!panel) return;
    const call = panel.querySelector("input[name=call]");
    panel.remove();
    if (call) focusCard(call.value);
  });

  // For timeline.js: a drag holds the board still (no poll swaps under the hand) and posts here.
  window.boardMoves = {
    hold: function () { busy = true; generation += 1; },
    release: function () { busy = false; },
    post: post,
  };
  wire();
  window.boardLive(board, poll);
})();
