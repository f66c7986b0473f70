// The board's map: reads the calls and technicians from the lists beside it (data-* attributes;
// the lists are also the page without JavaScript) and draws them with Leaflet. Tiles only when
// a tile URL is set; without one, markers and routes draw on a plain background.
(function () {
  "use strict";
  const el = document.getElementById("map");
  if (!el || !window.L) return;
  const RISK = { ok: "#1f7a3d", at_risk: "#c78f00", late: "#b3261e" };
  const map = L.map(el, { zoomSnap: 0.5 });
  if (el.dataset.tileUrl) {
    L.tileLayer(el.dataset.tileUrl, { maxZoom: 19, attribution: el.dataset.attribution }).addTo(map);
  } else {
    el.classList.add("no-tiles");
  }
  const points = [];
  const routes = {};
  const callMarkers = {};

  function point(li) {
    return [Number(li.dataset.lat), Number(li.dataset.lng)];
  }

  document.querySelectorAll("#map-techs > li").forEach(function (li) {
    const id = li.dataset.tech;
    const line = [];
    if (li.dataset.lat) {
      const at = point(li);
      line.push(at);
      points.push(at);
      L.circleMarker(at, { radius: 9, color: "#172029", weight: 3, fillColor: "#1f5fbf", fillOpacity: 0.9 })
        .bindTooltip(li.dataset.name + " (" + li.dataset.status + ")")
        .addTo(map);
    }
    li.querySelectorAll(".map-call").forEach(function (call) { line.push(point(call)); });
    if (line.length > 1) {
      routes[id] = L.polyline(line, { color: "#51606f", weight: 2, opacity: 0.6 }).addTo(map);
    }
  });

  document.querySelectorAll(".map-call").forEach(function (li) {
    const at = point(li);
    points.push(at);
    const unassigned = li.classList.contains("unassigned");
    const marker = L.circleMarker(at, {
      radius: 7,
      color: unassigned ? "#5b2a86" : "#fff",
      weight: unassigned ? 3 : 1,
      dashArray: unassigned ? "3 2" : null,
      fillColor: RISK[li.dataset.risk] || RISK.ok,
      fillOpacity: unassigned ? 0.5 : 0.95,
    }).bindTooltip(li.dataset.label).addTo(map);
    marker.on("click", function () { select(li.dataset.call); });
    callMarkers[li.dataset.call] = marker;
  });

  function select(callId) {
    document.querySelectorAll(".map-call.selected").forEach(function (x) { x.classList.remove("selected"); });
    const li = document.querySelector('.map-call[data-call="' + callId + '"]');
    if (!li) return;
    li.classList.add("selected");
    li.scrollIntoView({ block: "nearest" });
    if (li.dataset.tech) highlight(li.dataset.tech);
  }

  function highlight(techId) {
    Object.keys(routes).forEach(function (id) {
      routes[id].setStyle(id === techId
        ? { color: "#1f5fbf", weight: 5, opacity: 1 }
        : { color: "#51606f", weight: 2, opacity: 0.35 });
      if (id === techId) routes[id].bringToFront();
    });
    document.querySelectorAll("#map-techs > li").forEach(function (li) {
      li.classList.toggle("selected", li.dataset.tech === techId);
    });
    el.dataset.selectedTech = techId;
  }

  document.addEventListener("click", function (evt) {
    const button = evt.target.closest("[data-select-tech]");
    if (button) highlight(button.dataset.selectTech);
  });

  if (points.length) {
    map.fitBounds(points, { padding: [24, 24], maxZoom: 15 });
  } else {
    map.setView([41.88, -87.63], 11);
  }
  el.dataset.ready = "1";
  el.dataset.callMarkers = String(Object.keys(callMarkers).length);
  el.dataset.routes = String(Object.keys(routes).length);
})();
