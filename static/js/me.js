// "My day": fill the hidden latitude/longitude of every status form (and the manual location
// form, if empty) from the phone's position when the technician allows it. Without permission
// or support, nothing happens and the forms work as they are.
(function () {
  "use strict";
  if (!("geolocation" in navigator)) return;
  function fill(pos) {
    const lat = pos.coords.latitude.toFixed(5);
    const lng = pos.coords.longitude.toFixed(5);
    document.querySelectorAll("input.geo-lat").forEach((el) => { if (!el.value) el.value = lat; });
    document.querySelectorAll("input.geo-lng").forEach((el) => { if (!el.value) el.value = lng; });
    const note = document.getElementById("geo-note");
    if (note) note.dataset.located = "yes";
  }
  navigator.geolocation.getCurrentPosition(fill, function () {}, {
    maximumAge: 60000,
    timeout: 10000,
  });
})();
