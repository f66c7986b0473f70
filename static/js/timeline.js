// The timeline's drags: pick up a block (or a card in the unassigned tray), drop it on a
// technician's row at a time or on the tray. The drop becomes the board's one move (call,
// technician, place in the queue, expected version) through window.boardMoves.post, so the
// ripple panel, refusals and 409s are the column board's. The place in the queue is the number
// of the row's other calls that start before the drop point; the server plans the times.
(function () {
  "use strict";
  const board = document.getElementById("board");
  if (!board || board.dataset.view !== "timeline") return;
  const columnsEl = document.getElementById("board-columns");
  let drag = null; // {item, ghost, dx, dy, target, position}
  let mark = null;

  function draggable(el) {
    return el.closest("#board-columns .tl-block, #board-columns .tl-tray .card");
  }

  function clearTarget() {
    columnsEl.querySelectorAll(".drop-target").forEach(function (el) {
      el.classList.remove("drop-target");
    });
    if (mark) { mark.remove(); mark = null; }
  }

  function stepAt(track, x) {
    const box = track.getBoundingClientRect();
    const span = Number(document.getElementById("timeline").dataset.span);
    const fraction = Math.min(1, Math.max(0, (x - box.left) / box.width));
    return Math.round(fraction * span);
  }

  // Where in the row's queue a drop at `step` lands: after every other call whose middle is
  // earlier (hidden, filtered-out blocks count: they keep their places in the queue).
  function positionIn(row, step, item) {
    let position = 0;
    row.querySelectorAll(".tl-block").forEach(function (block) {
      if (block === item) return;
      const middle = Number(block.dataset.step) + Number(block.dataset.len) / 2;
      if (middle < step) position += 1;
    });
    return position;
  }

  function begin(evt, press) {
    const item = press.item;
    const box = item.getBoundingClientRect();
    const ghost = item.cloneNode(true);
    ghost.removeAttribute("id");
    ghost.classList.add("tl-ghost");
    ghost.querySelectorAll("[id]").forEach(function (el) { el.removeAttribute("id"); });
    ghost.setAttribute("aria-hidden", "true");
    // Sizes and places through the CSSOM, which the style-src 'self' policy allows.
    ghost.style.width = box.width + "px";
    ghost.style.height = box.height + "px";
    document.body.appendChild(ghost);
    drag = { item: item, ghost: ghost, dx: press.x - box.left, dy: press.y - box.top };
    document.body.classList.add("tl-dragging");
    window.boardMoves.hold();
    move(evt);
  }

  function move(evt) {
    drag.ghost.style.left = evt.clientX - drag.dx + "px";
    drag.ghost.style.top = evt.clientY - drag.dy + "px";
    const under = document.elementFromPoint(evt.clientX, evt.clientY);
    clearTarget();
    drag.target = null;
    if (!under) return;
    const tray = under.closest(".tl-tray");
    const row = under.closest(".tl-row");
    if (tray) {
      tray.classList.add("drop-target");
      drag.target = { technician: "", position: 0 };
    } else if (row) {
      const track = row.querySelector(".tl-track");
      const step = stepAt(track, evt.clientX);
      row.classList.add("drop-target");
      mark = document.createElement("div");
      mark.className = "tl-drop-mark t-start-" + step;
      track.appendChild(mark);
      drag.target = { technician: row.dataset.technician, position: positionIn(row, step, drag.item) };
    }
  }

  function unchanged(item, target) {
    const row = item.closest(".tl-row");
    if (target.technician === "") return !row;
    if (!row || row.dataset.technician !== target.technician) return false;
    const blocks = [...row.querySelectorAll(".tl-block")];
    return blocks.indexOf(item) === target.position;
  }

  function end(cancelled) {
    const done = drag;
    drag = null;
    done.ghost.remove();
    clearTarget();
    document.body.classList.remove("tl-dragging");
    const target = cancelled ? null : done.target;
    if (!target || unchanged(done.item, target)) {
      window.boardMoves.release();
      return;
    }
    window.boardMoves.post({
      call: done.item.dataset.call,
      technician: target.technician,
      position: target.position,
      expected_version: done.item.dataset.version,
    });
  }

  window.pressDrag({ pick: draggable, begin: begin, move: move, end: end });
  // "Show on the timeline" (?focus=<id>#call-<id>): the fragment already scrolled the page
  // without this script; this centres the highlighted block inside the timeline's own scroll.
  const focused = columnsEl.querySelector(".tl-focus");
  if (focused) focused.scrollIntoView({ block: "nearest", inline: "center" });
  else showNow();
  // Otherwise "now" comes into sight: the axis opens at the first shift, so in the evening the
  // now line and the calls still ahead sat off to the right of an empty-looking board (issue
  // 15). Only when it is out of sight; then it sits a quarter in, past the names.
  function showNow() {
    const box = document.getElementById("timeline");
    const now = box && box.querySelector(".tl-now-label");
    if (!now) return;
    const corner = box.querySelector(".tl-corner");
    const names = corner ? corner.offsetWidth : 0;
    const b = box.getBoundingClientRect();
    const x = now.getBoundingClientRect().left - b.left;
    if (x >= names && x <= b.width - 40) return;
    box.scrollLeft += x - (names + (b.width - names) / 4);
  }
})();
