// Regenerates evm_contract_vectors.json from Lit's own JS SDK (the canonical form clients hash).
// Usage: npm install @lit-protocol/access-control-conditions@7.4.0 && node gen-evm-contract.cjs
// Each functionAbi in the output was also checked to be a fixed point of ethabi 18.0.0's
// serde round trip (the Lit node's re-serialization); see SOURCES.md.
const { createHash } = require('node:crypto');
const acc = require('@lit-protocol/access-control-conditions');

const balanceOf = {
  contractAddress: '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48',
  functionName: 'balanceOf',
  functionParams: [':userAddress'],
  functionAbi: {
    type: 'function',
    name: 'balanceOf',
    inputs: [{ internalType: 'address', name: 'account', type: 'address' }],
    outputs: [{ internalType: 'uint256', name: '', type: 'uint256' }],
    stateMutability: 'view',
  },
  chain: 'ethereum',
  returnValueTest: { key: '', comparator: '>=', value: '1000000' },
};
const members = {
  contractAddress: '0x0000000000000000000000000000000000000001',
  functionName: 'members',
  functionParams: ['7', ':userAddress'],
  functionAbi: {
    name: 'members',
    inputs: [
      { name: 'groupId', type: 'uint64' },
      { name: 'who', type: 'address' },
    ],
    outputs: [
      { name: 'isMember', type: 'bool' },
      { name: 'roles', type: 'bytes32[2]' },
      { name: 'weights', type: 'int128[][3]' },
    ],
    constant: true,
    stateMutability: 'pure',
  },
  chain: 'polygon',
  returnValueTest: { key: 'isMember', comparator: '=', value: 'true' },
};
const evmBasic = {
  conditionType: 'evmBasic',
  contractAddress: '',
  standardContractType: '',
  chain: 'ethereum',
  method: 'eth_getBalance',
  parameters: [':userAddress', 'latest'],
  returnValueTest: { comparator: '>=', value: '0' },
};

function hash(json) {
  return createHash('sha256').update(json).digest('hex');
}
const cases = [];
for (const [name, conditions] of [
  ['single balanceOf with internalType and type', [balanceOf]],
  ['constant true, arrays, named outputs', [members]],
  ['operators and a nested group', [balanceOf, { operator: 'or' }, [members, { operator: 'and' }, balanceOf]]],
]) {
  const canonical = JSON.stringify(conditions.map((c) => acc.canonicalEVMContractConditionFormatter(c)));
  cases.push({ name, field: 'evmContractConditions', conditions, canonical, hash: hash(canonical) });
}
{
  const conditions = [{ conditionType: 'evmContract', ...balanceOf }, { operator: 'and' }, evmBasic];
  const canonical = JSON.stringify(conditions.map((c) => acc.canonicalUnifiedAccessControlConditionFormatter(c)));
  cases.push({ name: 'unified evmContract and evmBasic', field: 'unifiedAccessControlConditions', conditions, canonical, hash: hash(canonical) });
}
process.stdout.write(JSON.stringify({ source: '@lit-protocol/access-control-conditions 7.4.0', cases }, null, 2) + '\n');
