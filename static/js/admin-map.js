// Registered in <head>, before django-leaflet's widget listener, so it runs first.
window.addEventListener("map:init", function (event) {
  event.detail.map.maxZoom = 19;
});
