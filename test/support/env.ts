/** Names through which the jest global setup hands the shared control plane to test files. */
export const ENV_KUBECONFIG = 'BACKLOT_TEST_KUBECONFIG';
export const ENV_KUBECTL = 'BACKLOT_TEST_KUBECTL';
export const ENV_DIR = 'BACKLOT_TEST_ENVTEST_DIR';
export const PLANE_KEY = '__backlotControlPlane';
