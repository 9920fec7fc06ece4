// jemput console: draws the page's map from the JSON the server embeds (#map-data). Leaflet is
// vendored (web/vendor); without tiles configured, boundaries, routes and sites still draw.
(function () {
  'use strict';
  var el = document.getElementById('map');
  var data = document.getElementById('map-data');
  if (!el || !data || !window.L) { return; }
  var spec = JSON.parse(data.textContent);
  var tilesEl = document.getElementById('map-tiles');
  var tiles = tilesEl ? JSON.parse(tilesEl.textContent) : null;
  var map = L.map(el, { scrollWheelZoom: false, zoomSnap: 0.25 });
  if (tiles && tiles.url) {
    L.tileLayer(tiles.url, { maxZoom: 18, attribution: tiles.attribution }).addTo(map);
  } else {
    map.attributionControl.addAttribution('jemput');
  }
  function style(f) {
    var p = f.properties || {};
    if (p.role === 'outline') {
      return { color: '#6b746f', weight: 1, fillColor: '#f7f9f8', fillOpacity: 0.6, interactive: false };
    }
    if (p.role === 'area') {
      return { color: '#4a524e', weight: 1, fillColor: p.fill, fillOpacity: 0.75 };
    }
    if (p.role === 'route') {
      return { color: p.colour, weight: 3, opacity: 0.9, className: 'route-line' };
    }
    return {};
  }
  function point(f, latlng) {
    var p = f.properties || {};
    if (p.role === 'stop') {
      return L.marker(latlng, {
        icon: L.divIcon({ className: 'map-label', html: String(p.seq), iconSize: [22, 22] }),
        title: p.label, alt: p.label, keyboard: false
      });
    }
    if (p.role === 'base') {
      return L.marker(latlng, {
        icon: L.divIcon({ className: 'map-base', iconSize: [14, 14] }),
        title: p.label, alt: p.label, keyboard: false
      });
    }
    return L.circleMarker(latlng, {
      radius: p.radius || 6, color: '#fff', weight: 1, fillColor: p.colour || '#b30000',
      fillOpacity: 0.8, className: 'site-dot'
    });
  }
  var layer = L.geoJSON({ type: 'FeatureCollection', features: spec.features }, {
    style: style,
    pointToLayer: point,
    onEachFeature: function (f, l) {
      var p = f.properties || {};
      if (p.label && p.role !== 'outline') { l.bindTooltip(p.label, { sticky: true }); }
      if (p.href) { l.on('click', function () { window.location.href = p.href; }); }
      if (p.role === 'stop' && p.colour) {
        l.on('add', function () { if (l._icon) { l._icon.style.color = p.colour; } });
      }
    }
  }).addTo(map);
  // Fit what the page is about; the outlines around it only help to find one's way.
  var bounds = L.latLngBounds([]);
  layer.eachLayer(function (l) {
    if (l.feature.properties.role === 'outline') { return; }
    bounds.extend(l.getBounds ? l.getBounds() : l.getLatLng());
  });
  if (!bounds.isValid()) { bounds = layer.getBounds(); }
  if (!bounds.isValid()) {
    map.setView([-8.17, 113.7], 10);
  } else if (bounds.getNorthEast().distanceTo(bounds.getSouthWest()) < 200) {
    // One place (or two close together): a street-level view, not the deepest zoom.
    map.setView(bounds.getCenter(), 15);
  } else {
    map.fitBounds(bounds, { padding: [16, 16], maxZoom: 16 });
  }
  el.setAttribute('data-ready', 'true');
}());
