// ampbase's stand-in for '@aws-amplify/backend' for CommonJS-scoped resource files (a
// resource.ts outside a "type": "module" package, compiled to require() by tsx). Same
// behaviour as gen2_backend_shim.mjs.
'use strict';
const { a } = require('@aws-amplify/data-schema');

const factory = (kind, props) => ({ ampbaseKind: kind, props: props ?? {}, getInstance: () => ({}) });
const baseName = (entry) => entry.replace(/^.*[\\/]/, '').replace(/\.[^.]*$/, '');

exports.a = a;
exports.defineData = (props) => factory('data', props);
exports.defineFunction = (props) => {
  const fn = factory('function', props);
  fn.resolveName = () => fn.props.name ?? (fn.props.entry ? baseName(fn.props.entry) : undefined);
  return fn;
};
exports.defineAuth = (props) => factory('auth', props);
exports.defineStorage = (props) => factory('storage', props);
exports.referenceAuth = (props) => factory('auth', props);
exports.defineBackend = (resources) => ({ ampbaseKind: 'backend', resources });
exports.secret = (name) => ({ ampbaseKind: 'secret', name });
