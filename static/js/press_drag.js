// The one drag gesture of the timeline and the week: a press becomes a drag past a few pixels
// (so a click still opens a link), moves follow the pointer, a release or a cancel ends it, the
// click that follows a drop is swallowed and the browser's own drag of a link is kept out.
// window.pressDrag({pick, begin, move, end}): pick(element) -> the draggable item or null;
// begin(evt, press) once past the threshold (press: {item, x, y}); move(evt); end(cancelled).
(function () {
  "use strict";
  const THRESHOLD = 6; // pixels before a press becomes a drag

  window.pressDrag = function (on) {
    let press = null;
    let dragging = false;
    let suppressClick = false;

    function finish(cancelled) {
      dragging = false;
      press = null;
      suppressClick = true; // the click that follows a drop is not a click on a link
      setTimeout(function () { suppressClick = false; }, 0);
      on.end(cancelled);
    }

    document.addEventListener("pointerdown", function (evt) {
      if (evt.button !== 0 || dragging) return;
      const item = on.pick(evt.target);
      if (item) press = { item: item, x: evt.clientX, y: evt.clientY };
    });
    document.addEventListener("pointermove", function (evt) {
      if (dragging) { evt.preventDefault(); on.move(evt); return; }
      if (!press) return;
      if (Math.abs(evt.clientX - press.x) + Math.abs(evt.clientY - press.y) < THRESHOLD) return;
      evt.preventDefault();
      dragging = true;
      on.begin(evt, press);
    });
    document.addEventListener("pointerup", function () {
      if (dragging) finish(false);
      press = null;
    });
    document.addEventListener("pointercancel", function () {
      if (dragging) finish(true);
      press = null;
    });
    document.addEventListener("click", function (evt) {
      if (suppressClick) { evt.preventDefault(); evt.stopPropagation(); }
    }, true);
    document.addEventListener("dragstart", function (evt) {
      if (evt.target.closest && on.pick(evt.target)) evt.preventDefault();
    });
  };
})();
