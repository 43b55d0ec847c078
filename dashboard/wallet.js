// Noderr wallet: a Streamlit components-v2 module. Python passes `data` = {request, dev, known};
// this module answers through two state keys: `env` (origin, wallet, chain, accounts) and
// `result` ({id, ok, value | error}) for the request whose id it has not handled yet.
export default function (component) {
  const { data, setStateValue, parentElement } = component;
  const g = (window.__noderrWallet = window.__noderrWallet || { handled: new Set() });
  g.setState = setStateValue;
  g.data = data || {};
  const box = parentElement.querySelector(".noderr-wallet-status");
  const say = (text) => { if (box) box.textContent = text; };

  const rpc = async (url, method, params) => {
    const response = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: Date.now(), method, params: params || [] }) });
    const body = await response.json();
    if (body.error) throw { code: body.error.code, message: body.error.message };
    return body.result;
  };

  // The development wallet: anvil's unlocked accounts over JSON-RPC, chain 31337 only.
  const devProvider = (dev) => ({
    isNoderrDevWallet: true,
    request: async ({ method, params }) => {
      const chain = parseInt(await rpc(dev.rpc_url, "eth_chainId"), 16);
      if (chain !== 31337) throw { code: 4901, message: `development wallet refuses chain ${chain}` };
      if (method === "eth_chainId") return "0x" + chain.toString(16);
      if (method === "eth_accounts" || method === "eth_requestAccounts") {
        const accounts = await rpc(dev.rpc_url, "eth_accounts");
        return accounts[dev.account] ? [accounts[dev.account]] : [];
      }
      return rpc(dev.rpc_url, method, params);
    },
  });

  const provider = () => {
    if (window.ethereum) return window.ethereum;
    const dev = g.data.dev;
    return dev && dev.enabled ? devProvider(dev) : null;
  };

  const errorOf = (e) => ({ code: (e && e.code) ?? null,
    message: String((e && (e.message || e.reason)) || e || "unknown wallet error") });

  const reportEnv = async () => {
    const p = provider();
    const env = { origin: window.location.origin, has_wallet: !!window.ethereum,
      dev: !window.ethereum && !!p, chain_id: null, accounts: [], error: null };
    if (p) {
      try {
        env.chain_id = parseInt(await p.request({ method: "eth_chainId" }), 16);
        env.accounts = await p.request({ method: "eth_accounts" });
      } catch (e) { env.error = errorOf(e).message; }
    }
    // Python passes back the env it holds (`known`): report only what it does not know yet.
    const canonical = (e) => e ? JSON.stringify([e.origin, !!e.has_wallet, !!e.dev, e.chain_id ?? null,
      (e.accounts || []).join(","), e.error ?? null]) : null;
    if (canonical(env) !== canonical(g.data.known)) g.setState("env", env);
  };

  const waitForReceipt = async (p, hash) => {
    for (let i = 0; i < 240; i++) {
      const receipt = await p.request({ method: "eth_getTransactionReceipt", params: [hash] });
      if (receipt) return receipt;
      await new Promise((r) => setTimeout(r, 500));
    }
    return null;
  };

  // Some nodes (anvil) auto-fill a gas limit that omits refunds and runs out of gas (a burn
  // in `revoke`): estimate explicitly, plus a 25% margin, as browser wallets do.
  const withGas = async (p, tx) => {
    if (tx.gas) return tx;
    const estimate = BigInt(await p.request({ method: "eth_estimateGas", params: [tx] }));
    return { ...tx, gas: "0x" + ((estimate * 125n) / 100n).toString(16) };
  };

  const run = async (request) => {
    const p = provider();
    const answer = (body) => g.setState("result", { id: request.id, ...body });
    if (!p) return answer({ ok: false, error: { code: null, message: "no wallet in this browser" } });
    try {
      say(`Waiting for your wallet: ${request.method}…`);
      const params = request.method === "eth_sendTransaction"
        ? [await withGas(p, request.params[0])] : request.params || [];
      const value = await p.request({ method: request.method, params });
      if (request.method !== "eth_sendTransaction") {
        answer({ ok: true, value });
      } else {
        answer({ ok: true, value: { hash: value, status: "pending", block: null } });
        say(`Transaction ${value} sent; waiting for its receipt…`);
        const receipt = await waitForReceipt(p, value);
        answer({ ok: true, value: { hash: value, block: receipt ? parseInt(receipt.blockNumber, 16) : null,
          status: !receipt ? "unknown" : receipt.status === "0x1" ? "success" : "reverted" } });
      }
      say("");
    } catch (e) {
      say("");
      answer({ ok: false, error: errorOf(e) });
    }
    await reportEnv();
  };

  if (window.ethereum && !g.listening && window.ethereum.on) {
    g.listening = true;
    window.ethereum.on("accountsChanged", () => reportEnv());
    window.ethereum.on("chainChanged", () => reportEnv());
  }
  const request = g.data.request;
  if (request && request.id && !g.handled.has(request.id)) {
    g.handled.add(request.id);
    run(request);
  } else {
    reportEnv();
  }
}
