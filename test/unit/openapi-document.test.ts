import { defaultPageSize, loadOpenApiDocument } from '../../src/entry-points/api/openapi-document';

describe('defaultPageSize', () => {
  it("is the default of the document's limit parameter", () => {
    expect(defaultPageSize(loadOpenApiDocument())).toBe(50);
  });

  it('refuses a document whose limit parameter declares no default', () => {
    const document = { components: { parameters: { Limit: { schema: { type: 'integer' } } } } };
    expect(() => defaultPageSize(document)).toThrow(/Limit needs an integer default/);
  });
});
