// The board's map: reads the calls and technicians from the lists beside it (data-* attributes;
// the lists are also the page without JavaScript) and draws them with Leaflet. Tiles only when
// a tile URL is set; without one, markers and routes draw on a plain background.
//
// Selecting a call (its marker, or its list entry's Select button) shows it in the panel above
// the lists with "Suggest who should go" and "Show on the timeline". The panel is built with
// textContent: the summary is a person's text.
//
// Live: the map asks the boards' poll (/board/columns/?view=map, the same fingerprint and the
// same If-None-Match / 304 as the board) whether anything changed; when it did, the lists come
// back and the markers and routes are drawn again from them, keeping the selection, the zoom
// and the position.
(function () {
  "use strict";
  const el = document.getElementById("map");
  if (!el || !window.L) return;
  const data = document.getElementById("map-data");
  const panel = document.getElementById("map-panel");
  const liveStatus = document.getElementById("map-live");
  const RISK = { ok: "#1f7a3d", at_risk: "#c78f00", late: "#b3261e" };
  const map = L.map(el, { zoomSnap: 0.5 });
  if (el.dataset.tileUrl) {
    L.tileLayer(el.dataset.tileUrl, { maxZoom: 19, attribution: el.dataset.attribution }).addTo(map);
  } else {
    el.classList.add("no-tiles");
  }
  // Routes sit in a pane under the markers', so a highlighted route never covers its own calls.
  map.createPane("routes").style.zIndex = "390";
  const drawn = L.layerGroup().addTo(map);
  let routes = {};
  let callMarkers = {};
  let selectedCall = null;
  let selectedTech = null;
  let etag = '"' + el.dataset.version + '"';
  let redraws = 0;

  function point(li) {
    return [Number(li.dataset.lat), Number(li.dataset.lng)];
  }

  // A tooltip's content as text: Leaflet would read a string as HTML, and names and summaries
  // are people's text.
  function text(value) {
    const span = document.createElement("span");
    span.textContent = value;
    return span;
  }

  function callEntry(callId) {
    return data.querySelector('.map-call[data-call="' + callId + '"]');
  }

  // Every marker and route from the lists; returns the points drawn (for the first fit).
  function draw() {
    drawn.clearLayers();
    routes = {};
    callMarkers = {};
    const points = [];
    let markers = 0;
    data.querySelectorAll("#map-techs > li").forEach(function (li) {
      const id = li.dataset.tech;
      const line = [];
      if (li.dataset.lat) {
        const at = point(li);
        line.push(at);
        points.push(at);
        L.circleMarker(at, {
          radius: 9, color: "#172029", weight: 3, fillColor: "#1f5fbf", fillOpacity: 0.9,
          className: "tech-marker tech-" + id,
        }).bindTooltip(text(li.dataset.name + " (" + li.dataset.status + ")")).addTo(drawn);
      }
      li.querySelectorAll(".map-call").forEach(function (call) { line.push(point(call)); });
      if (line.length > 1) {
        routes[id] = L.polyline(line, {
          color: "#51606f", weight: 2, opacity: 0.6, className: "route route-" + id, pane: "routes",
        }).addTo(drawn);
      }
    });
    data.querySelectorAll(".map-call").forEach(function (li) {
      const at = point(li);
      points.push(at);
      markers += 1;
      const unassigned = li.classList.contains("unassigned");
      const marker = L.circleMarker(at, {
        radius: 7,
        color: unassigned ? "#5b2a86" : "#fff",
        weight: unassigned ? 3 : 1,
        dashArray: unassigned ? "3 2" : null,
        fillColor: RISK[li.dataset.risk] || RISK.ok,
        fillOpacity: unassigned ? 0.5 : 0.95,
        // For the eye nothing; for tests and styles, which call and which risk it shows.
        className: "call-marker call-" + li.dataset.call + " risk-" + li.dataset.risk
          + (unassigned ? " unassigned" : " tech-" + li.dataset.tech),
      }).bindTooltip(text(li.dataset.label)).addTo(drawn);
      marker.on("click", function () { select(li.dataset.call); });
      callMarkers[li.dataset.call] = {
        marker: marker, color: marker.options.color, weight: marker.options.weight,
      };
    });
    // The Select buttons do nothing without this script, so they are shown only by it.
    data.querySelectorAll(".map-pick").forEach(function (button) { button.hidden = false; });
    el.dataset.callMarkers = String(markers);
    el.dataset.routes = String(Object.keys(routes).length);
    return points;
  }

  function link(text, href) {
    const a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    return a;
  }

  function line(text, className) {
    const p = document.createElement("p");
    p.textContent = text;
    if (className) p.className = className;
    return p;
  }

  // The panel for the selected call, from its list entry (textContent only).
  function fillPanel(li) {
    if (!li) {
      panel.hidden = true;
      panel.replaceChildren();
      delete el.dataset.selectedCall;
      return;
    }
    const tech = li.dataset.tech ? li.closest("#map-techs > li") : null;
    const title = document.createElement("h2");
    title.textContent = "#" + li.dataset.call + " " + li.dataset.summary;
    const close = document.createElement("button");
    close.type = "button";
    close.className = "map-panel-close";
    close.setAttribute("aria-label", "Close");
    close.textContent = "×";
    close.addEventListener("click", function () { select(null); });
    const links = document.createElement("p");
    links.className = "map-panel-links";
    links.append(
      link("Suggest who should go", li.dataset.suggestUrl),
      link("Show on the timeline", li.dataset.timelineUrl),
    );
    panel.replaceChildren(
      close,
      title,
      line(li.dataset.riskWords, "risk-word risk-" + li.dataset.risk),
      line(tech ? "Technician: " + tech.dataset.name : "Unassigned", "map-panel-tech"),
      links,
    );
    panel.hidden = false;
    el.dataset.selectedCall = li.dataset.call;
  }

  // Shows the selection on the lists, the routes and the panel (again after a live redraw).
  function showSelection(scroll) {
    data.querySelectorAll(".map-call.selected").forEach(function (x) { x.classList.remove("selected"); });
    const li = selectedCall ? callEntry(selectedCall) : null;
    if (selectedCall && !li) selectedCall = null; // closed, or moved to another day
    if (li) {
      li.classList.add("selected");
      if (scroll) li.scrollIntoView({ block: "nearest" });
      selectedTech = li.dataset.tech || selectedTech;
    }
    fillPanel(li);
    highlight(selectedTech);
    // The selected call's marker: larger, with a dark ring, above the others.
    Object.keys(callMarkers).forEach(function (id) {
      const drawnCall = callMarkers[id];
      const chosen = id === selectedCall;
      drawnCall.marker.setRadius(chosen ? 10 : 7);
      drawnCall.marker.setStyle(chosen
        ? { color: "#172029", weight: 4 }
        : { color: drawnCall.color, weight: drawnCall.weight });
      if (chosen) drawnCall.marker.bringToFront();
    });
  }

  function select(callId) {
    selectedCall = callId;
    showSelection(true);
  }

  function highlight(techId) {
    selectedTech = techId;
    Object.keys(routes).forEach(function (id) {
      if (!techId) {
        routes[id].setStyle({ color: "#51606f", weight: 2, opacity: 0.6 });
        return;
      }
      routes[id].setStyle(id === techId
        ? { color: "#1f5fbf", weight: 5, opacity: 1 }
        : { color: "#51606f", weight: 2, opacity: 0.35 });
      if (id === techId) routes[id].bringToFront();
    });
    data.querySelectorAll("#map-techs > li").forEach(function (li) {
      li.classList.toggle("selected", li.dataset.tech === techId);
    });
    if (techId) el.dataset.selectedTech = techId;
    else delete el.dataset.selectedTech;
  }

  document.addEventListener("click", function (evt) {
    const button = evt.target.closest("[data-select-tech]");
    if (button) highlight(button.dataset.selectTech);
    const pick = evt.target.closest("[data-select-call]");
    if (pick) select(pick.dataset.selectCall);
  });

  // Where the keyboard was in the lists, as a selector that finds it again after a redraw.
  function focusKey(node) {
    const entry = node.closest("[data-call], [data-tech]");
    if (!entry) return null;
    const owner = entry.dataset.call
      ? '.map-call[data-call="' + entry.dataset.call + '"]'
      : '#map-techs > li[data-tech="' + entry.dataset.tech + '"]';
    const within = [...entry.querySelectorAll("a, button")].indexOf(node);
    return { owner: owner, within: within };
  }

  function refocus(key) {
    const entry = data.querySelector(key.owner);
    const target = entry && entry.querySelectorAll("a, button")[key.within];
    if (target) target.focus();
  }

  // Live: the boards' poll (a 304 while nothing changed), asked when the board's stream says a
  // change committed, else twice a second without a stream, every 15 s with one
  // (board_stream.js). False when it cannot ask now (asked again on the next tick).
  let asking = false;
  function poll() {
    if (asking || document.hidden || !el.dataset.pollUrl) return false;
    asking = true;
    fetch(el.dataset.pollUrl, { headers: { "If-None-Match": etag }, credentials: "same-origin" })
      .then(function (response) {
        liveStatus.textContent = "Live";
        liveStatus.classList.remove("stale");
        if (response.status !== 200) return null;
        etag = response.headers.get("ETag") || etag;
        return response.text();
      })
      .then(function (html) {
        if (html === null) return;
        const top = data.parentElement.scrollTop;
        const active = document.activeElement;
        const focused = data.contains(active) ? focusKey(active) : null;
        data.innerHTML = html; // the server's lists, every value escaped there
        draw(); // the view (zoom and centre) is left as the reader has it
        showSelection(false);
        data.parentElement.scrollTop = top;
        if (focused) refocus(focused); // a live update keeps the keyboard's place
        redraws += 1;
        el.dataset.redraws = String(redraws);
      })
      .catch(function () {
        liveStatus.textContent = "Offline: the map may be out of date";
        liveStatus.classList.add("stale");
      })
      .finally(function () { asking = false; });
    return true;
  }

  const points = draw();
  if (points.length) {
    map.fitBounds(points, { padding: [24, 24], maxZoom: 15 });
  } else {
    map.setView([41.88, -87.63], 11);
  }
  function rememberView() {
    el.dataset.zoom = String(map.getZoom());
    const centre = map.getCenter();
    el.dataset.centre = centre.lat.toFixed(5) + "," + centre.lng.toFixed(5);
  }
  map.on("moveend zoomend", rememberView);
  rememberView();
  if (liveStatus) liveStatus.hidden = false;
  el.dataset.ready = "1";
  window.boardLive(el, poll);
})();
