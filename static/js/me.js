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

// Keep the page current: poll a fingerprint (304 while nothing changed). When it changes, reload,
// unless the technician is in the middle of typing or has a form open; then say so instead.
(function () {
  "use strict";
  const root = document.getElementById("me");
  if (!root || !window.fetch) return;
  const POLL_MS = 3000;
  let version = root.dataset.version;
  function busy() {
    const active = document.activeElement;
    if (active && ["INPUT", "TEXTAREA", "SELECT"].includes(active.tagName)) return true;
    if (document.querySelector(".me-cant[open]")) return true;
    return [...document.querySelectorAll(".me textarea, .me input[type=number]")].some(
      (el) => el.value !== el.defaultValue
    );
  }
  function poll() {
    fetch(root.dataset.versionUrl, {
      headers: { "If-None-Match": `"${version}"` },
      credentials: "same-origin",
      cache: "no-store",
    })
      .then((response) => (response.status === 200 ? response.text() : null))
      .then((fresh) => {
        if (fresh === null || fresh === version) return;
        version = fresh;
        if (busy()) {
          document.getElementById("me-changed").hidden = false;
        } else {
          sessionStorage.setItem("me-scroll", String(window.scrollY));
          window.location.replace(window.location.pathname);
        }
      })
      .catch(() => {})
      .finally(() => window.setTimeout(poll, POLL_MS));
  }
  const scroll = sessionStorage.getItem("me-scroll");
  if (scroll !== null) {
    sessionStorage.removeItem("me-scroll");
    window.scrollTo(0, Number(scroll));
  }
  window.setTimeout(poll, POLL_MS);
})();
