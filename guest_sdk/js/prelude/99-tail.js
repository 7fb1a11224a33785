
  return { load, dispatch, finish, describeError };
})
