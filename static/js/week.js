// The week view's drag: pick up a call (a line in a day cell), drop it on another day's cell
// (a technician's, or the day's unassigned strip). The drop is one post to the week move
// (call, day, technician, expected version); the server reschedules through the move service
// and answers with the whole week (or the confirm panel, or a refusal in words), which replaces
// #week-grid. Without JavaScript, the call page's "Move to day" form does the same.
(function () {
  "use strict";
  const board = document.getElementById("board");
  if (!board || board.dataset.view !== "week") return;
  const grid = document.getElementById("week-grid");
  let drag = null;

  function clearTarget() {
    grid.querySelectorAll(".drop-target").forEach(function (el) { el.classList.remove("drop-target"); });
  }

  function begin(evt, press) {
    const item = press.item;
    const box = item.getBoundingClientRect();
    const ghost = item.cloneNode(true);
    ghost.removeAttribute("id");
    ghost.classList.add("wk-ghost");
    ghost.setAttribute("aria-hidden", "true");
    ghost.style.width = box.width + "px"; // the CSSOM, which the policy allows
    document.body.appendChild(ghost);
    drag = { item: item, ghost: ghost, dx: press.x - box.left, dy: press.y - box.top, target: null };
    document.body.classList.add("wk-dragging");
    move(evt);
  }

  function move(evt) {
    drag.ghost.style.left = evt.clientX - drag.dx + "px";
    drag.ghost.style.top = evt.clientY - drag.dy + "px";
    clearTarget();
    drag.target = null;
    const under = document.elementFromPoint(evt.clientX, evt.clientY);
    const cell = under && under.closest("#week-grid .wk-cell");
    if (!cell || cell.classList.contains("wk-past")) return;
    cell.classList.add("drop-target");
    drag.target = cell;
  }

  function end(cancelled) {
    const done = drag;
    drag = null;
    done.ghost.remove();
    clearTarget();
    document.body.classList.remove("wk-dragging");
    const cell = cancelled ? null : done.target;
    if (!cell || cell.contains(done.item)) return;
    htmx.ajax("POST", board.dataset.moveUrl, {
      target: "#week-grid",
      swap: "innerHTML",
      values: {
        call: done.item.dataset.call,
        expected_version: done.item.dataset.version,
        to_day: cell.dataset.day,
        technician: cell.dataset.technician,
        day: board.dataset.day,
        team: board.dataset.team,
        days: "week",
      },
    });
  }

  window.pressDrag({
    pick: function (el) { return el.closest("#week-grid .wk-call[data-movable]"); },
    begin: begin,
    move: move,
    end: end,
  });
})();
