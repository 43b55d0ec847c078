// Compiles OzGovernor.sol and OpenZeppelin's TimelockController with solc-js; prints the
// artifacts ({name: {abi, bytecode}}) as JSON on stdout.
const fs = require('fs');
const path = require('path');
const solc = require('solc');

const input = {
  language: 'Solidity',
  sources: {'OzGovernor.sol': {content: fs.readFileSync('OzGovernor.sol', 'utf8')}},
  settings: {
    optimizer: {enabled: true, runs: 200},
    evmVersion: 'cancun',
    outputSelection: {'*': {'*': ['abi', 'evm.bytecode.object']}},
  },
};

function findImports(importPath) {
  const file = path.join('node_modules', importPath);
  return fs.existsSync(file) ? {contents: fs.readFileSync(file, 'utf8')} : {error: `not found: ${importPath}`};
}

const output = JSON.parse(solc.compile(JSON.stringify(input), {import: findImports}));
const errors = (output.errors || []).filter((e) => e.severity === 'error');
if (errors.length) {
  console.error(errors.map((e) => e.formattedMessage).join('\n'));
  process.exit(1);
}
const artifact = (c) => ({abi: c.abi, bytecode: '0x' + c.evm.bytecode.object});
const built = {};
for (const [name, contract] of Object.entries(output.contracts['OzGovernor.sol'])) built[name] = artifact(contract);
built.TimelockController = artifact(
  output.contracts['@openzeppelin/contracts/governance/TimelockController.sol'].TimelockController,
);
console.error(`compiled ${Object.keys(built).join(', ')} with solc ${solc.version()}`);
process.stdout.write(JSON.stringify(built));
