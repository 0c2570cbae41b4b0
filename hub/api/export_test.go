package api

import (
	"net/http/httptest"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// What the external tests (package api_test, which start whole hubs
// through the composition root) use of the internal OpenAPI helpers.

// OpenAPIOperations returns the document's operations by "METHOD path".
func OpenAPIOperations(t *testing.T) map[string]*openapi3.Operation {
	return openapiOperations(openapiLoad(t))
}

// OpenAPICheckAnswer holds an answer to what the document says of op.
func OpenAPICheckAnswer(t *testing.T, op *openapi3.Operation, name string, rec *httptest.ResponseRecorder) {
	t.Helper()
	openapiCheckAnswer(t, op, name, rec)
}

// OpenAPIVisitSchema checks JSON text against the named component schema.
func OpenAPIVisitSchema(t *testing.T, schema, text string) error {
	t.Helper()
	return openapiVisit(openapiLoad(t).Components.Schemas[schema].Value, text)
}
