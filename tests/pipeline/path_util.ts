export { join } from "node:path";
import { pathToFileURL } from "node:url";
export const toFileUrl = (p: string) => pathToFileURL(p);
