import { expect } from "chai";
import { canonicalUrl, PathRefused } from "../../src/gateway/canonicalPath.ts";

describe("gateway canonical paths", () => {
  const accepted: [raw: string, path: string, encodedPath: string, query?: string][] = [
    ["/v1/data/whales", "/v1/data/whales", "/v1/data/whales"],
    ["/v1/data/%77hales", "/v1/data/whales", "/v1/data/whales"],
    ["/v1/data/%73ignals", "/v1/data/signals", "/v1/data/signals"],
    ["/v1/data/%72esearch/reports", "/v1/data/research/reports", "/v1/data/research/reports"],
    ["/v1/data/x/../whales", "/v1/data/whales", "/v1/data/whales"],
    ["/v1/data/x/%2e%2e/whales", "/v1/data/whales", "/v1/data/whales"],
    ["/v1/data/x/%2E%2E/whales", "/v1/data/whales", "/v1/data/whales"],
    ["/v1/data/./prices/TMAI", "/v1/data/prices/TMAI", "/v1/data/prices/TMAI"],
    ["/v1/data//prices///TMAI", "/v1/data/prices/TMAI", "/v1/data/prices/TMAI"],
    ["/v1/data/research/", "/v1/data/research/", "/v1/data/research/"],
    ["/v1/data/research/.", "/v1/data/research/", "/v1/data/research/"],
    ["/v1/data/prices/BTC:USD", "/v1/data/prices/BTC:USD", "/v1/data/prices/BTC:USD"],
    ["/v1/data/prices/a%20b", "/v1/data/prices/a b", "/v1/data/prices/a%20b"],
    ["/v1/data/prices/%3F%23", "/v1/data/prices/?#", "/v1/data/prices/%3F%23"],
    ["/v1/data/p/%C3%A9", "/v1/data/p/é", "/v1/data/p/%C3%A9"],
    ["/v1/data/p/%3b", "/v1/data/p/;", "/v1/data/p/%3B"],
    ["/v1/data/prices/TMAI?q=%41&x=1+2", "/v1/data/prices/TMAI", "/v1/data/prices/TMAI", "?q=%41&x=1+2"],
    ["/v1/data/prices/TMAI?filter[a]=1", "/v1/data/prices/TMAI", "/v1/data/prices/TMAI", "?filter[a]=1"],
  ];
  for (const [raw, path, encodedPath, query = ""] of accepted) {
    it(`reads ${raw} as ${path}`, () => {
      expect(canonicalUrl(raw)).to.deep.equal({ path, encodedPath, query });
    });
  }

  const refused: [raw: string, because: RegExp][] = [
    ["/v1/data/x\\..\\whales", /backslash/],
    ["/v1/data/%5cwhales", /encoded backslash/],
    ["/v1/data/%2Fwhales", /encoded slash/],
    ["/v1/data/x%2f..%2fwhales", /encoded slash/],
    ["/v1/data/%2577hales", /double encoding/],
    ["/v1/data/%252e%252e/whales", /double encoding/],
    ["/v1/data/whales%00", /control character/],
    ["/v1/data/whales%0d%0aX-Evil:1", /control character/],
    ["/v1/data/prices/%zz", /malformed percent-encoding/],
    ["/v1/data/prices/%", /malformed percent-encoding/],
    ["/v1/data/prices/%E0%A4%A", /malformed percent-encoding/],
    ["/v1/data/p/%C0%AF", /malformed percent-encoding/], // an overlong "/" is not UTF-8
    ["/v1/data/p/%ED%A0%80", /malformed percent-encoding/], // a lone surrogate is not UTF-8
    ["/v1/data/whales;x=1", /semicolon/],
    ["/v1/data/ whales", /percent-encode/],
    ["/../../etc/passwd", /above the root/],
    ["/v1/data/x..", /begins or ends with \.\./],
    ["/v1/data/...", /begins or ends with \.\./],
    ["/v1/data/prices/TMAI?q=%zz", /query has a malformed/],
    ["/v1/data/prices/TMAI?q=%", /query has a malformed/],
    ["/v1/data/prices/TMAI?q=%E0%A4%A", /query has a malformed/],
    ["/v1/data/prices/TMAI?q=%uD800", /query has a malformed/],
    ["/v1/data/prices/TMAI?q=%00", /control character/],
    ["/v1/data/prices/TMAI?q=a b", /must be percent-encoded/],
    ["v1/data/whales", /must start with \//],
  ];
  for (const [raw, because] of refused) {
    it(`refuses ${JSON.stringify(raw)}`, () => {
      expect(() => canonicalUrl(raw))
        .to.throw(PathRefused)
        .with.property("message")
        .that.matches(because);
    });
  }

  it("is idempotent: the encoded path it forwards reads back as itself", () => {
    for (const [raw] of accepted) {
      const once = canonicalUrl(raw);
      const twice = canonicalUrl(`${once.encodedPath}${once.query}`);
      expect(twice).to.deep.equal(once, raw);
    }
  });
});
