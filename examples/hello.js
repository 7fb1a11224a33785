// The seed's example: a function body that returns the handler.
return function (cb) {
  cb(null, "Hello, world");
};
