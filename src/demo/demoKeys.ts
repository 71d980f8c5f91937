import type { Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { createSiweMessage } from "viem/siwe";

/**
 * Signs in to the gateway at `gatewayUrl` as the wallet of `privateKey` (SIWE, as a dApp would) and creates an API
 * key named `name`: the whole developer flow over HTTP. Returns the key (shown once by the gateway).
 */
export async function createKeyBySigningIn(
  gatewayUrl: string,
  privateKey: Hex,
  chainId: number,
  name: string,
): Promise<{ address: Hex; key: string; session: string }> {
  const account = privateKeyToAccount(privateKey);
  const json = async (response: Response) => {
    const body = (await response.json()) as Record<string, unknown>;
    if (!response.ok) throw new Error(`${response.url}: ${response.status} ${String(body.detail ?? "")}`);
    return body;
  };
  const { nonce } = await json(await fetch(`${gatewayUrl}/v1/auth/nonce`));
  const origin = new URL(gatewayUrl);
  const message = createSiweMessage({
    address: account.address,
    domain: origin.host,
    uri: `${origin.origin}/v1/auth`,
    version: "1",
    chainId,
    nonce: String(nonce),
    issuedAt: new Date(),
    statement: "Sign in to the TMAI API gateway",
  });
  const signedIn = await json(
    await fetch(`${gatewayUrl}/v1/auth/verify`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message, signature: await account.signMessage({ message }) }),
    }),
  );
  const session = String(signedIn.session);
  const created = await json(
    await fetch(`${gatewayUrl}/v1/keys`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${session}` },
      body: JSON.stringify({ name }),
    }),
  );
  return { address: account.address, key: String(created.key), session };
}
