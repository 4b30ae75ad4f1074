// Starts Swagger UI on the reference page of erlen.openapi. A file of its
// own, not an inline script, so a Content-Security-Policy without
// 'unsafe-inline' still lets the page run.
window.addEventListener("load", function () {
  var node = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: node.dataset.specUrl,
    domNode: node,
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    // The same origin: the session cookie goes with "Try it out" requests.
    withCredentials: true,
  });
});
