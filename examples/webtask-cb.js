// webtask: module.exports = function (cb)
module.exports = function (cb) {
  cb(null, { hello: "world", at: typeof Date.now() });
};
