// ampbase's stand-in for '@aws-amplify/backend', used only when a project does not have the
// package installed or ampbase is asked not to load it (it pulls in the whole AWS CDK):
// enough for an amplify/data/resource.ts to be evaluated. `a` is the project's own
// @aws-amplify/data-schema; the define* helpers record their arguments the way the real
// factories keep them (`props`). gen2_backend_shim.cjs is the CommonJS twin.
export { a } from '@aws-amplify/data-schema';

const factory = (kind, props) => ({ ampbaseKind: kind, props: props ?? {}, getInstance: () => ({}) });
const baseName = (entry) => entry.replace(/^.*[\\/]/, '').replace(/\.[^.]*$/, '');

export const defineData = (props) => factory('data', props);
export const defineFunction = (props) => {
  const fn = factory('function', props);
  fn.resolveName = () => fn.props.name ?? (fn.props.entry ? baseName(fn.props.entry) : undefined);
  return fn;
};
export const defineAuth = (props) => factory('auth', props);
export const defineStorage = (props) => factory('storage', props);
export const referenceAuth = (props) => factory('auth', props);
export const defineBackend = (resources) => ({ ampbaseKind: 'backend', resources });
export const secret = (name) => ({ ampbaseKind: 'secret', name });
