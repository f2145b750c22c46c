/** One GET / through an edge on loopback for the cluster tests: a fresh connection, a 5 s limit. */
import http from "node:http";

export function get(host: string, port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host, port, path: "/", agent: false, timeout: 5000 }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        res.on("error", reject);
      })
      .on("error", reject)
      .on("timeout", function (this: http.ClientRequest) {
        this.destroy(new Error("timeout"));
      });
  });
}
