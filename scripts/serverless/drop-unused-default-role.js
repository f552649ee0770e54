'use strict';

/**
 * Serverless Framework plugin: removes the shared default Lambda role (`IamRoleLambdaExecution`) from the packaged
 * template once no resource refers to it.
 *
 * serverless-iam-roles-per-function gives every function its own role, but it copies them from the framework's default
 * role and leaves that role in the template: an unused role that may receive from every queue and write to every log
 * group of the stage. Listed after that plugin, this hook runs after it on the same event. Should any function ever be
 * left on the default role (no `iamRoleStatements`), the role is referred to and is kept.
 */
class DropUnusedDefaultRole {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'before:package:finalize': () => this.drop() };
  }

  drop() {
    const provider = this.serverless.getProvider('aws');
    const logicalId = provider.naming.getRoleLogicalId();
    const template = this.serverless.service.provider.compiledCloudFormationTemplate;
    const { [logicalId]: role, ...others } = template.Resources;
    if (!role) return;
    if (refersTo({ resources: others, outputs: template.Outputs }, logicalId)) return;
    delete template.Resources[logicalId];
  }
}

/** Whether any Ref, Fn::GetAtt, Fn::Sub or DependsOn in `node` names `logicalId`. */
function refersTo(node, logicalId) {
  if (typeof node === 'string') return false;
  if (Array.isArray(node)) return node.some((n) => n === logicalId || refersTo(n, logicalId));
  if (!node || typeof node !== 'object') return false;
  for (const [key, value] of Object.entries(node)) {
    if (key === 'Ref' && value === logicalId) return true;
    if (
      key === 'Fn::GetAtt' &&
      (Array.isArray(value) ? value[0] === logicalId : String(value).split('.')[0] === logicalId)
    )
      return true;
    if (key === 'Fn::Sub' && new RegExp(`\\$\\{${logicalId}[.}]`).test(Array.isArray(value) ? value[0] : String(value)))
      return true;
    if (key === 'DependsOn' && (value === logicalId || (Array.isArray(value) && value.includes(logicalId))))
      return true;
    if (refersTo(value, logicalId)) return true;
  }
  return false;
}

module.exports = DropUnusedDefaultRole;
