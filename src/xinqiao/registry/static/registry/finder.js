// Service finder: "use my location" fills the form's two hidden fields and sends the same GET form.
// Without JavaScript (or without permission) the region picker and the list work as they are.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("finder-form");
    var button = document.getElementById("use-location");
    if (!form || !button || !("geolocation" in navigator)) { return; }
    var error = document.getElementById("location-error");
    button.hidden = false;
    button.addEventListener("click", function () {
      button.disabled = true;
      navigator.geolocation.getCurrentPosition(function (pos) {
        document.getElementById("id_lat").value = pos.coords.latitude.toFixed(5);
        document.getElementById("id_lon").value = pos.coords.longitude.toFixed(5);
        var region = document.getElementById("id_region");
        if (region) { region.value = ""; }
        form.submit();
      }, function () {
        button.disabled = false;
        if (error) { error.hidden = false; }
      }, { enableHighAccuracy: false, timeout: 10000, maximumAge: 300000 });
    });
  });
})();
